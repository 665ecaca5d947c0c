import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/**
 * Makes protobuf-es encode strings with Buffer.from instead of TextEncoder.encode. On Node 20 the
 * latter allocates a fresh ArrayBuffer per string, the former slices a shared pool: toBinary of a
 * 20-decision DecideBatch response took ~130 µs with TextEncoder and ~70 µs with Buffer (2 busy
 * cores). The bytes are the same (a lone surrogate becomes U+FFFD either way); decoding is left
 * to TextDecoder, which is as fast. Process-wide and idempotent.
 */
export function useBufferTextEncoding(): void {
  const current = getTextEncoding();
  configureTextEncoding({
    checkUtf8: current.checkUtf8,
    decodeUtf8: current.decodeUtf8,
    encodeUtf8: (text) => Buffer.from(text, "utf8"),
  });
}
