// Refused logins are classified and final; a credentials provider can refresh them and carry on.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotAuthorizedError, type Status } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix } from '../support/wait.js'

const run = promisify(execFile)

describe.skipIf(noMosquitto())('credentials', () => {
  let broker: Mosquitto
  const pool = new ClientPool('creds')
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-passwd-'))
    await run('mosquitto_passwd', ['-c', '-b', join(dir, 'passwd'), 'sensor', 'right-password'])
    const passwd = await readFile(join(dir, 'passwd'), 'utf8')
    await rm(dir, { recursive: true })
    broker = await Mosquitto.start({
      persistence: false,
      extra: ['allow_anonymous false', 'password_file /mosquitto/config/passwd'],
      files: { 'config/passwd': passwd },
    })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })
  // Mosquitto 2.0.11 logs a refused login before it knows the client id: count all of them, before and after.
  const refusals = async (): Promise<number> => (await broker.log()).split('\n').filter((line) => line.endsWith('disconnected, not authorised.')).length

  it.each([
    [5, 135],
    [4, 5],
  ] as const)('a wrong password under MQTT %s: NotAuthorizedError %s, everything settles, no retries', async (protocolVersion, code) => {
    const before = await refusals()
    const client = pool.connect(broker.tcpUrl, { protocolVersion, username: 'sensor', password: 'wrong', reconnect: { initialDelay: 20, maxDelay: 40 } })
    const observed = new Promise<unknown>((resolve) => client.observe(`${uniquePrefix('denied')}/x`).subscribe({ error: resolve }))
    const published = client.publish(`${uniquePrefix('denied')}/x`, 'x', { qos: 1 }).catch((e: unknown) => e)
    const closed = await waitForStatus(client, 'closed')
    expect(closed.error).toBeInstanceOf(NotAuthorizedError)
    expect(closed.error).toMatchObject({ name: 'NotAuthorizedError', reasonCode: code })
    expect(await observed).toBe(closed.error)
    expect(await published).toBe(closed.error)
    // Several times the retry delay later (a round trip of another client), still one attempt.
    const probe = await pool.connected(broker.tcpUrl, { username: 'sensor', password: 'right-password' })
    for (let i = 0; i < 5; i++) await probe.publish(`${uniquePrefix('probe')}/x`, 'x', { qos: 1 })
    expect((await refusals()) - before).toBe(1)
  })

  it('a missing password is refused the same way', async () => {
    const client = pool.connect(broker.tcpUrl)
    expect((await waitForStatus(client, 'closed')).error).toBeInstanceOf(NotAuthorizedError)
  })

  it('a credentials provider is asked before every attempt and can replace refused credentials', async () => {
    const handedOut: string[] = []
    const tokens = ['expired-token', 'right-password']
    const client = pool.connect(broker.tcpUrl, {
      reconnect: { initialDelay: 20, maxDelay: 40 },
      credentials: async () => {
        const password = tokens[Math.min(handedOut.length, tokens.length - 1)] as string
        handedOut.push(password)
        return { username: 'sensor', password }
      },
    })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    await waitForStatus(client, 'connected')
    expect(handedOut).toEqual(['expired-token', 'right-password'])
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'reconnecting', 'connected'])
    expect(statuses[1]).toMatchObject({ attempt: 1, error: { name: 'NotAuthorizedError' } })
  })

  it('a provider that keeps returning the refused credentials ends in NotAuthorizedError', async () => {
    let calls = 0
    const before = await refusals()
    const client = pool.connect(broker.tcpUrl, {
      reconnect: { initialDelay: 20, maxDelay: 40 },
      credentials: () => {
        calls += 1
        return { username: 'sensor', password: 'wrong' }
      },
    })
    expect((await waitForStatus(client, 'closed')).error).toBeInstanceOf(NotAuthorizedError)
    expect(calls).toBe(2)
    expect((await refusals()) - before).toBe(2)

  })
})
