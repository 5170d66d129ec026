// Moddable's "text/encoder" (modules/data/text/encoder) inside xsnap: xsnap
// builds in the same native encoder (textencoder.c) as the global TextEncoder.

interface EncodeIntoResult {
  read: number;
  written: number;
}

interface NativeTextEncoder {
  encode(input: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): EncodeIntoResult;
}

const TextEncoder = (globalThis as unknown as { TextEncoder: new () => NativeTextEncoder }).TextEncoder;

export default TextEncoder;
