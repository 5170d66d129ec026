// Fields that most connections never change, held on the prototype. On XS
// every own property of an object is a slot (16 B on ESP32, 32 B in the
// 64-bit simulator) from the moment the constructor makes it, used or not: a
// connection's proxy tunnel, its inflater, its close reason, the waiting
// websock_recv's arguments. A cold field is declared without an initializer
// (`declare name: T`), and its first value is defined here once, on the
// class's prototype (made when the module loads, in flash on ESP32 when it
// is preloaded). Reading it finds the prototype's value; the first
// assignment makes it the instance's own property, and it costs a slot from
// then on. Only fields an exchange of messages does not write belong here:
// the rest are hot, and initialized in the class as usual.
//
// The prototype must stay unfrozen for this (an assignment through a frozen
// prototype's property throws in strict code); XS freezes only functions and
// built-ins after preload, never a class's prototype.

/** Defines each of `defaults`' fields on `proto` as a writable value, the first value of every instance's field. */
export function defineColdFields(proto: object, defaults: Record<string, unknown>): void {
  for (const name of Object.keys(defaults)) {
    Object.defineProperty(proto, name, { value: defaults[name], writable: true, enumerable: false, configurable: false });
  }
}
