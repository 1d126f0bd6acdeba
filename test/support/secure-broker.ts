import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestCerts } from './certs.js'
import { kitDir, Mosquitto, type MosquittoOptions } from './mosquitto.js'
import { addUsers } from './passwd.js'

/**
 * The kit's secured profile (`mosquitto/mosquitto-secure.conf`) with the kit's `acl`, a password file made
 * by `mosquitto/users.sh` and certificates made by `mosquitto/certs/make-certs.sh`.
 */
export async function startSecureBroker(options: {
  users: Record<string, string>
  certs: TestCerts
  extra?: MosquittoOptions['extra']
}): Promise<Mosquitto> {
  const scratch = await mkdtemp(join(tmpdir(), 'iotpubsub-passwd-'))
  try {
    await addUsers(join(scratch, 'passwd'), options.users)
    return await Mosquitto.start({
      profile: 'mosquitto-secure.conf',
      files: {
        ...options.certs.brokerFiles(),
        'config/acl': await readFile(join(kitDir, 'acl')),
        'config/passwd': await readFile(join(scratch, 'passwd')),
      },
      ...(options.extra ? { extra: options.extra } : {}),
    })
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** How many times `pattern` occurs in `text`. */
export function count(text: string, pattern: RegExp): number {
  return [...text.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))].length
}
