// mosquitto/README.md's "Docker" section, secured profile, as a user types it: `.env` chooses the profile,
// make-certs.sh and users.sh (on a host without mosquitto_passwd) make the files, the ownership line as written
// (and what the broker says when it is skipped), then logins over wss:// and mqtts:// verified against the kit's
// CA, a user added and made live with the documented HUP, the ACL's denial, and the log of a refused wss:// login.
import { readdirSync, statSync, symlinkSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { filter, firstValueFrom, toArray } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotAuthorizedError, PublishError, type ClientOptions, type MQTTClient, type Status } from '../../lib/node.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { imageReady, KitCopy, noDockerEngine, readme, shellBlocks } from '../support/docker.js'
import { publishUntil } from '../support/probe.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const RUNNING = /mosquitto version \S+ running/
const DASHBOARD_PASSWORD = 'dashboard-Pw-1'
const ALICE_PASSWORD = 'alice-Pw-2'

/** The README's secured-profile block, one command a line, `sudo ` dropped (the tests run as root). */
function secureBlock(): string[] {
  const block = shellBlocks(readme(), 'Docker').find((b) => b.includes('COMPOSE_FILE=docker-compose.yml:docker-compose.secure.yml'))
  if (!block) throw new Error('the README has no secured-profile block')
  return block.trim().split('\n').map((line) => line.replaceAll('sudo ', ''))
}

/** A PATH with every command of this one except mosquitto_passwd: a host without Debian's mosquitto package. */
async function pathWithoutMosquittoPasswd(): Promise<{ path: string; dispose(): Promise<void> }> {
  const bin = await mkdtemp(join(tmpdir(), 'iotpubsub-nopasswd-'))
  const seen = new Set<string>(['mosquitto_passwd'])
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let entries: string[] = []
    try {
      entries = readdirSync(dir)
    } catch {
      continue
    }
    for (const name of entries) {
      if (seen.has(name)) continue
      seen.add(name)
      try {
        if (statSync(join(dir, name)).isFile()) symlinkSync(join(dir, name), join(bin, name))
      } catch {
        // a dangling link or an unreadable entry: not a command this test needs
      }
    }
  }
  return { path: bin, dispose: () => rm(bin, { recursive: true, force: true }) }
}

describe.skipIf(noDockerEngine())('mosquitto/ under Docker: the secured profile as the README has it', () => {
  let kit: KitCopy
  let ca: string
  const pool = new ClientPool('docker-secure')

  beforeAll(async () => {
    await imageReady()
    kit = await KitCopy.create('secure')
    await kit.writeEnv()
  })
  afterAll(async () => {
    await pool.endAll()
    await kit?.dispose()
  })

  /** An MQTT 5 client over wss:// (the only password listener published), verified against the kit's CA. */
  const wss = (options: ClientOptions = {}): MQTTClient => pool.connect(kit.url('wss', 'WSS_PORT'), { protocolVersion: 5, ca, reconnect: false, ...options })

  /** `down` then `up -d`: a new container, so its log holds this start only. */
  const freshStart = async () => {
    await kit.must('docker compose down')
    await kit.must('docker compose up -d')
  }

  it('makes its files with the README\'s commands, users.sh running mosquitto_passwd from the image; skipping the ownership line gives the errors the README names', async () => {
    const lines = secureBlock()
    expect(lines.at(-2)).toBe('chown 1883:1883 passwd acl certs/server.key && chmod 600 passwd acl certs/server.key')
    expect(lines.at(-1)).toBe('docker compose up -d')
    const noPasswd = await pathWithoutMosquittoPasswd()
    try {
      for (const line of lines.slice(0, -2)) await kit.must(line, { env: { DASHBOARD_PASSWORD, PATH: noPasswd.path } })
    } finally {
      await noPasswd.dispose()
    }
    expect(await readFile(join(kit.dir, 'passwd'), 'utf8')).toMatch(/^dashboard:\$7\$/m)
    ca = await readFile(join(kit.dir, 'certs/ca.crt'), 'utf8')

    // Skipped: the password file (users.sh made it 600, owned by root here) cannot be read by uid 1883.
    const doc = readme()
    const pwfile = /`(Error: Unable to open pwfile "\/mosquitto\/config\/passwd"\.)`/.exec(doc)?.[1]
    const aclWarning = /`(Warning: File \/mosquitto\/config\/acl has world readable permissions\. Future versions will refuse to load this file\.)`/.exec(doc)?.[1]
    expect(pwfile).toBeDefined()
    expect(aclWarning).toBeDefined()
    await freshStart()
    await kit.waitForLog(new RegExp(escape(pwfile as string)), 'the pwfile error')
    expect(await kit.logs()).not.toMatch(RUNNING)
    // Half done (passwd and the key, not acl): it runs, and warns about acl.
    await kit.must('chown 1883:1883 passwd certs/server.key && chmod 600 passwd certs/server.key')
    await freshStart()
    const warned = await kit.waitForLog(RUNNING, 'mosquitto running')
    expect(warned).toContain(aclWarning)
  })

  it('starts without a warning once the ownership line is run, publishing only 8883 and 9443', async () => {
    const [ownership, up] = secureBlock().slice(-2) as [string, string]
    await kit.must(ownership)
    await kit.must('docker compose down')
    await kit.must(up)
    const logs = await kit.waitForLog(RUNNING, 'mosquitto running')
    expect(logs).toMatch(/Config loaded from \/mosquitto\/config\/mosquitto-secure\.conf\./)
    expect(logs).not.toMatch(/Warning|Error|Read-only file system/)
    const ports = await kit.must('docker compose ps --format "{{.Ports}}"')
    expect(ports).toContain(`127.0.0.1:${kit.ports.MQTTS_PORT}->8883/tcp`)
    expect(ports).toContain(`127.0.0.1:${kit.ports.WSS_PORT}->9443/tcp`)
    expect(ports).not.toMatch(/->(1883|9001)\//)
  })

  it('refuses an anonymous client over wss:// with NotAuthorizedError and logs it as the hardening list says', async () => {
    const clientId = `anonymous-${process.pid}`
    const statuses = firstValueFrom(wss({ clientId }).status$.pipe(toArray()))
    const closed = (await statuses).at(-1) as Extract<Status, { type: 'closed' }>
    expect(closed.error).toBeInstanceOf(NotAuthorizedError)
    expect(closed.error?.reasonCode).toBe(135)
    // What a refused WebSocket login leaves in the log, as mosquitto/README.md's hardening list names it.
    const documented = /refused wss:\/\/ login is logged\s+only as `([^`]+)`/.exec(readme())?.[1]
    expect(documented).toBe('Client <id> closed its connection.')
    const line = (documented as string).replace('<id>', clientId)
    const logs = await kit.waitForLog(new RegExp(`: ${escape(line)}$`, 'm'), 'the refusal in the log')
    expect(logs).not.toMatch(/not authorised/)
    expect(logs).not.toMatch(new RegExp(`New client connected .* as ${clientId}`))
  })

  it('accepts a user added with users.sh only after the documented HUP; the file keeps owner 1883 and mode 600', async () => {
    const alice = () => wss({ username: 'alice', password: ALICE_PASSWORD })
    // As root on the file now owned by 1883, with the image's mosquitto_passwd (2.0.21), which warns about a
    // file whose owner is not the user running it: users.sh hands it a private copy, so no warning.
    const noPasswd = await pathWithoutMosquittoPasswd()
    try {
      const added = await kit.must('./users.sh add alice', { input: `${ALICE_PASSWORD}\n`, env: { PATH: noPasswd.path } })
      expect(added).toContain('users.sh: user alice set in')
      expect(added).not.toMatch(/Warning|owner is not/)
    } finally {
      await noPasswd.dispose()
    }
    const info = await kit.must('stat -c "%u:%g %a" passwd')
    expect(info.trim()).toBe('1883:1883 600')
    const before = await waitForStatus(alice(), 'closed', 20_000)
    expect(before.error).toBeInstanceOf(NotAuthorizedError)

    const reloads = ((await kit.logs()).match(/Reloading config\./g) ?? []).length
    await kit.must('docker compose kill -s HUP mosquitto')
    const logs = await kit.waitForLog(/Reloading config\./, 'the reload', reloads + 1)
    expect(logs).not.toMatch(/Warning/)
    // The log line comes as the reload starts: a login refused in the moment before it ends is tried again.
    const status = await waitFor(async () => {
      const attempt = alice()
      const settled = await firstValueFrom(attempt.status$.pipe(filter((s) => s.type === 'connected' || s.type === 'closed')))
      if (settled.type === 'closed' && !(settled.error instanceof NotAuthorizedError)) throw settled.error ?? new Error('closed')
      return settled.type === 'connected' ? settled : undefined
    }, 'alice accepted after the reload', 20_000, 100)
    expect(status).toMatchObject({ type: 'connected', protocolVersion: 5 })
  })

  it('applies the ACL: users/<name>/# round-trips, a denied publish is rejected with reason code 135', async () => {
    const alice = wss({ username: 'alice', password: ALICE_PASSWORD })
    await waitForStatus(alice, 'connected', 20_000)
    const prefix = `users/alice/${uniquePrefix('docker-acl').replaceAll('/', '_')}`
    const own = next(alice.observe(`${prefix}/#`, { qos: 1, codec: 'text' }), 'alice\'s own message', undefined, 20_000)
    expect((await publishUntil(own, () => alice.publish(`${prefix}/note`, 'mine', { qos: 1 }))).payload).toBe('mine')
    const denied = await alice.publish('devices/sensor-1/telemetry', 'forged', { qos: 1 }).then(() => undefined, (error: unknown) => error)
    expect(denied).toBeInstanceOf(PublishError)
    expect((denied as PublishError).reasonCode).toBe(135)
  })

  it('lets a device in over mqtts:// with a client certificate from make-certs.sh (CN = username) and a dashboard read it over wss://, and the README\'s in-container mosquitto_sub too', async () => {
    await kit.must('certs/make-certs.sh client sensor-7')
    const read = (file: string) => readFile(join(kit.dir, file), 'utf8')
    const device = pool.connect(kit.url('mqtts', 'MQTTS_PORT'), { protocolVersion: 5, reconnect: false, ca, cert: await read('certs/clients/sensor-7.crt'), key: await read('certs/clients/sensor-7.key') })
    await waitForStatus(device, 'connected', 20_000)
    await kit.waitForLog(/u'sensor-7'/, 'the certificate\'s CN as the username')
    const dashboard = wss({ username: 'dashboard', password: DASHBOARD_PASSWORD })
    await waitForStatus(dashboard, 'connected', 20_000)
    const seen = next(dashboard.observe('devices/+/status', { qos: 1, codec: 'text' }), 'the device status at the dashboard', undefined, 20_000)
    const status = await publishUntil(seen, () => device.publish('devices/sensor-7/status', 'online', { qos: 1, retain: true }))
    expect(status.topic).toBe('devices/sensor-7/status')
    expect(status.payload).toBe('online')

    const exec = shellBlocks(readme(), 'Docker').find((b) => b.includes('docker compose exec mosquitto mosquitto_sub'))
    expect(exec).toBeDefined()
    const out = await kit.must((exec as string).trim(), { env: { DASHBOARD_PASSWORD } })
    expect(out).toContain('devices/sensor-7/status online')
  })
})

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
