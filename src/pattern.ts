// A module's RegExp, made at run time on its first use, not while the module
// loads. On Moddable a module's objects are preloaded into flash, RegExps
// included, and the Moddable SDK's XS (8.2.3, xs/sources/xsre.c
// fxAllocateRegExpData: an `else` lost in 2024) gives every run of a
// preloaded RegExp match data from malloc that is never freed, in a slot the
// collector takes for one of its own chunks: each test() or exec() leaks it,
// and a compacting collection during the run crashes the VM (seen in the
// simulator, xsRegExp.c:564, inside websock_open). A RegExp made at run time
// keeps its match data in its own chunk, as the engine expects. So a module
// holds a Pattern (its source, in flash) and the RegExp is made once, in RAM,
// when first needed (a few hundred bytes, kept for the app's life).

export class Pattern {
  private readonly source: string;
  private readonly flags: string;
  private made: RegExp | null = null;

  /**
   * The source as a string (String.raw keeps it readable), not a RegExp
   * literal's `source`: XS escapes a literal's "\/" once more in it, so the
   * RegExp made again from it would look for a backslash.
   */
  constructor(source: string, flags = "") {
    this.source = source;
    this.flags = flags;
  }

  /** The RegExp itself, for String methods that take one (matchAll, replace). */
  get regExp(): RegExp {
    return (this.made ??= new RegExp(this.source, this.flags));
  }

  test(text: string): boolean {
    return this.regExp.test(text);
  }

  exec(text: string): RegExpExecArray | null {
    return this.regExp.exec(text);
  }
}
