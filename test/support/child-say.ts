import { writeSync } from 'node:fs'

/**
 * A line from a child process to its parent test, written at once (before anything else happens, so a SIGKILL
 * right after cannot lose it); a pipe that is full for now is waited for.
 *
 * @example `say(\`Q ${id}\`)`
 */
export function say(line: string): void {
  for (;;) {
    try {
      writeSync(1, `${line}\n`)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
    }
  }
}
