// The assertions the XS entries count inside XS (no assert module there):
// each check is counted, a failed one is kept as a sentence for the report.
// Pure ES2022, bundled into every XS entry that uses it.

export class Checks {
  assertions = 0;
  readonly failures: string[] = [];

  ok(condition: boolean, what: string): boolean {
    this.assertions++;
    if (!condition) this.failures.push(what);
    return condition;
  }

  equal(got: unknown, want: unknown, what: string): boolean {
    return this.ok(got === want, `${what}: got ${String(got)}, expected ${String(want)}`);
  }

  sameBytes(got: Uint8Array, want: Uint8Array, what: string): boolean {
    if (got.length !== want.length) return this.ok(false, `${what}: ${got.length} bytes, expected ${want.length}`);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== want[i]) return this.ok(false, `${what}: byte ${i} is ${got[i]}, expected ${want[i]}`);
    }
    return this.ok(true, what);
  }

  /** Texts compared whole; a mismatch is told by lengths and the first differing index, not by the texts. */
  sameText(got: string, want: string, what: string): boolean {
    if (got === want) return this.ok(true, what);
    let i = 0;
    while (i < got.length && i < want.length && got[i] === want[i]) i++;
    return this.ok(false, `${what}: ${got.length} characters, expected ${want.length}; first difference at ${i} (${JSON.stringify(got.slice(i, i + 12))} for ${JSON.stringify(want.slice(i, i + 12))})`);
  }
}
