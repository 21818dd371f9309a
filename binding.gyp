{
  "targets": [
    {
      "target_name": "extra_kernels",
      "sources": [
        "native/kernels.cc",
        "native/kernels-avx512.cc",
        "native/kernels-avx2.cc",
        "native/kernels-portable.cc"
      ],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
