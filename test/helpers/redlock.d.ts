/** redlock 4 ships no types: the part the scripting tests use. */
declare module 'redlock' {
  interface Lock {
    readonly value: string;
    extend(ttl: number): Promise<Lock>;
    unlock(): Promise<void>;
  }
  export default class Redlock {
    constructor(clients: unknown[], options?: { retryCount?: number; retryDelay?: number; driftFactor?: number });
    lock(resource: string, ttl: number): Promise<Lock>;
  }
}
