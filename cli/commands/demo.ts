import type { Io } from './io.js';
export async function demoCommand(_args: readonly string[], _io: Io): Promise<number> {
  return 1;
}
