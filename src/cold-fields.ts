// Fields that most connections never change, held on the prototype. On XS
// every own property of an object is a slot (16 B on ESP32, 32 B in the
// 64-bit simulator) from the moment the constructor makes it, used or not: a
// connection's proxy tunnel, its inflater, its close reason, the waiting
// websock_recv's arguments. A cold field is declared without an initializer
// (`declare name: T`) and named here once with its first value: the
// prototype gets an accessor (made when the module loads, in flash on ESP32
// when it is preloaded) whose getter gives that value and whose setter makes
// the field the instance's own data property, which from then on shadows the
// accessor and costs its slot. Only fields an exchange of messages does not
// write belong here: the rest are hot, and initialized in the class as usual.
//
// Not a plain value on the prototype: XS makes a preloaded class's prototype
// read-only, and an assignment through a read-only inherited property throws
// in strict code; a setter that defines the own property is not stopped by it.

/** Defines each of `defaults`' fields on `proto` as a cold field with that first value. */
export function defineColdFields(proto: object, defaults: Record<string, unknown>): void {
  for (const name of Object.keys(defaults)) defineColdField(proto, name, defaults[name]);
}

function defineColdField(proto: object, name: string, first: unknown): void {
  Object.defineProperty(proto, name, {
    get(): unknown {
      return first;
    },
    set(this: object, value: unknown): void {
      Object.defineProperty(this, name, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}
