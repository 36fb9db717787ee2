/** The host dashboard's event log: joins, leaves, re-plans, control messages, errors. */
export type EventKind = 'job' | 'control' | 'join' | 'leave' | 'replan' | 'checkpoint' | 'info' | 'error';

export interface LogEvent {
  id: number;
  time: number;
  kind: EventKind;
  text: string;
}

export const MAX_EVENTS = 500;

let nextId = 1;

/** Newest first, capped at MAX_EVENTS. Returns a new array (for Svelte reactivity). */
export function pushEvent(log: readonly LogEvent[], kind: EventKind, text: string, time = Date.now()): LogEvent[] {
  const out = [{ id: nextId++, time, kind, text }, ...log];
  if (out.length > MAX_EVENTS) out.length = MAX_EVENTS;
  return out;
}
