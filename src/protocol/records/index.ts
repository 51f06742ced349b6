// Record batches: layout and validation (batch), records (records), codecs (compression),
// builders (build), control records (control), legacy formats (legacy), error values (errors).
export * from './errors.js';
export * from './batch.js';
export * from './legacy.js';
export * from './records.js';
export * from './compression.js';
export * from './control.js';
export * from './build.js';
