// Boolean fields held as the bits of one number. On XS every own property
// of an object is a slot (16 B on ESP32, 32 B in the 64-bit simulator), so
// a connection's thirty-odd booleans cost thirty-odd slots as properties,
// and one as bits. The accessors live on the prototype: made once when the
// module loads, in flash on ESP32 when it is preloaded, shared by every
// instance. A class declares each flag (`declare private name: boolean`),
// holds `bits = 0` (every flag starts false), and names its flags once here.

/** What an instance with flags holds. */
export interface FlagBits {
  bits: number;
}

/** Defines each of `names` on `proto` as a boolean stored in bit i of `this.bits` (at most 31). */
export function defineFlags(proto: FlagBits, names: readonly string[]): void {
  if (names.length > 31) throw new RangeError("at most 31 flags fit one number's bits");
  for (let i = 0; i < names.length; i++) defineFlag(proto, names[i], 1 << i);
}

function defineFlag(proto: FlagBits, name: string, bit: number): void {
  Object.defineProperty(proto, name, {
    get(this: FlagBits): boolean {
      return (this.bits & bit) !== 0;
    },
    set(this: FlagBits, on: boolean): void {
      this.bits = on ? this.bits | bit : this.bits & ~bit;
    },
  });
}
