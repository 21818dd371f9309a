// Included where it is used, inside each instruction set's namespace and target (kernels-impl.h) and in
// kernels.cc: a template instantiated outside an AVX function's target cannot be inlined into it, and
// then calls its summand once per value (LayerNormalization's rows ran 4× slower).

/** Σ of a row in double: four partial sums in a fixed order, then (s0 + s1) + (s2 + s3). */
template <typename F>
inline double rowTotal(int cols, F&& term) {
  double s[4] = {0, 0, 0, 0};
  int c = 0;
  for (; c + 4 <= cols; c += 4)
    for (int l = 0; l < 4; l++) s[l] += term(c + l);
  for (; c < cols; c++) s[c % 4] += term(c);
  return (s[0] + s[1]) + (s[2] + s[3]);
}
