// Declarations the Moddable SDK (8.x) has in its own typings/ folder but
// @moddable/typings 5.6.0 on npm lacks. Only our CI type-check
// (hosts/moddable/tsconfig.json) includes this file: an mcconfig build uses the
// SDK's typings, which declare these modules already. Drop an entry once the
// npm package catches up.

declare module "crypt" {
  // As $(MODDABLE)/typings/crypt.d.ts declares it (modules/crypt/digest/crypt.js): keep the two in step.
  type DigestType = "MD5" | "SHA1" | "SHA224" | "SHA256" | "SHA384" | "SHA512";
  export class Digest {
    constructor(type: DigestType);
    write(message: string | ArrayBuffer): void;
    close(): ArrayBuffer;
    reset(): void;
    get blockSize(): number;
    get outputSize(): number;
    update(message: string | ArrayBuffer): void;
  }
}
