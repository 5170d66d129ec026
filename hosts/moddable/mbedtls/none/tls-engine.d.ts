// The stand-in's types are the engine's (../tls-engine.d.ts): mcconfig's
// TypeScript pass resolves the module to this directory's tls-engine.js when
// the stand-in is built (the simulator's default), and needs a declaration
// beside it.
export * from "../tls-engine.js";
export { default } from "../tls-engine.js";
