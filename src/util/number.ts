/**
 * The one number grammar of the command line and preference vectors: optional sign, digits with an
 * optional fraction, optional exponent. No hex/binary/octal literals, no 'Infinity', no empty string
 * (all of which JavaScript's Number() accepts).
 */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
