// A list of messages as a ring linked through `next`, held by its last
// message (the first is last.next): a list is then one field of its owner,
// not an object with a first and a last (on XS an object and each of its
// fields are slots, for every connection). null is the empty list. A message
// is in one ring at a time; its `next` is never null while it is in one.

import type { OutgoingMessage } from "./outgoing.js";

type Ring = OutgoingMessage | null;

/** The first message of the ring, or null. */
export function ringFirst(last: Ring): OutgoingMessage | null {
  return last === null ? null : last.next;
}

/** Appends `m`; returns the ring's new last. */
export function ringPush(last: Ring, m: OutgoingMessage): OutgoingMessage {
  if (last === null) {
    m.next = m;
  } else {
    m.next = last.next;
    last.next = m;
  }
  return m;
}

/** Takes the first message out (the ring is not empty); returns the ring's new last. The message taken is unlinked. */
export function ringDropFirst(last: OutgoingMessage): Ring {
  const first = last.next!;
  const rest = first === last ? null : last;
  if (rest !== null) last.next = first.next;
  first.next = null;
  return rest;
}

/** The ring's messages as a list linked through `next`, first to last, ending in null (the ring is used up). */
export function ringOpen(last: Ring): OutgoingMessage | null {
  if (last === null) return null;
  const first = last.next;
  last.next = null;
  return first;
}
