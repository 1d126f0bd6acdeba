import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { kitDir } from './mosquitto.js'

/** The kit's user script. */
export const usersScript = join(kitDir, 'users.sh')

/**
 * Runs `mosquitto/users.sh` on `passwdFile`, giving `stdin` (the password) through a pipe as the README
 * shows. Resolves with the exit code and output; never rejects on a non-zero exit.
 */
export function runUsers(passwdFile: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(usersScript, args, { env: { ...process.env, PASSWD_FILE: passwdFile } }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error)
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr })
    })
    // The script may exit (a bad name) before it reads stdin: a write to the closed pipe is expected then.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(stdin ?? '')
  })
}

/** Adds users (name → password) to `passwdFile` with `users.sh add`; throws if one fails. */
export async function addUsers(passwdFile: string, users: Record<string, string>): Promise<void> {
  for (const [name, password] of Object.entries(users)) {
    const result = await runUsers(passwdFile, ['add', name], `${password}\n`)
    if (result.code !== 0) throw new Error(`users.sh add ${name} failed (${result.code}): ${result.stderr}`)
  }
}
