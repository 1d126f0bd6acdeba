import { join } from 'node:path'
import { firstValueFrom, toArray } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import { connect, NotAuthorizedError, PublishError, type ClientOptions, type MQTTClient, type Status } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { TestCerts } from '../support/certs.js'
import type { Mosquitto } from '../support/mosquitto.js'
import { runUsers } from '../support/passwd.js'
import { publishUntil } from '../support/probe.js'
import { nextMessage, rawClient } from '../support/raw.js'
import { count, startSecureBroker } from '../support/secure-broker.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const users = {
  alice: 'alice-secret',
  bob: 'bob-secret',
  dashboard: 'dashboard-secret',
  'sensor-1': 'sensor-1-secret',
  'sensor-2': 'sensor-2-secret',
}

// The secured profile users deploy: passwords (users.sh), the kit's acl, TLS certificates (make-certs.sh).
describe.skipIf(noMosquitto())('mosquitto/mosquitto-secure.conf: passwords and ACLs', () => {
  let certs: TestCerts
  let broker: Mosquitto
  const clients: MQTTClient[] = []
  const raw: MqttClient[] = []

  beforeAll(async () => {
    certs = await TestCerts.make({ clients: [] })
    broker = await startSecureBroker({ users, certs })
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()))
    await Promise.all(raw.map((c) => c.endAsync(true)))
    await broker?.dispose()
    await certs?.dispose()
  })

  let ids = 0
  /** An SDK client on the loopback MQTT listener (1883) or the wss:// listener (9443, verified against the CA). */
  function client(name: string, options: ClientOptions = {}, listener: 1883 | 9443 = 1883): MQTTClient {
    ids += 1
    const url = listener === 1883 ? broker.url('mqtt', 1883) : broker.url('wss', 9443)
    const tls = listener === 9443 ? { ca: certs.ca } : {}
    const created = connect(url, {
      clientId: `secure-${ids}-${name}`,
      protocolVersion: 5,
      ...(name in users ? { username: name, password: users[name as keyof typeof users] } : {}),
      ...tls,
      ...options,
    })
    clients.push(created)
    return created
  }

  const connected = (c: MQTTClient) => next(c.status$, 'connected', (s) => s.type === 'connected')

  describe('passwords', () => {
    it.each([
      ['mqtt:// on 127.0.0.1:1883, MQTT 5', 1883, 5],
      ['mqtt:// on 127.0.0.1:1883, MQTT 3.1.1', 1883, 4],
      ['wss:// on 9443, MQTT 5, server certificate verified against the kit CA', 9443, 5],
    ] as const)('the right password connects (%s)', async (_, listener, protocolVersion) => {
      const alice = client('alice', { protocolVersion }, listener)
      const status = await connected(alice)
      expect(status).toMatchObject({ type: 'connected', protocolVersion })
      await broker.waitForLog(new RegExp(`as ${alice.clientId} \\(p${protocolVersion === 5 ? 5 : 2}, c1, k30, u'alice'\\)`))
    })

    // A client whose login is refused must stop: one CONNECT, NotAuthorizedError, status closed, no retry.
    // The reconnect policy is made eager (50–200 ms) so that a retry loop would show up at once.
    it.each([
      ['a wrong password, MQTT 5', 1883, 5, { username: 'alice', password: 'not-her-password' }, 135],
      ['a wrong password, MQTT 3.1.1', 1883, 4, { username: 'alice', password: 'not-her-password' }, 5],
      ['no username or password, MQTT 5', 1883, 5, {}, 135],
      ['no username or password, MQTT 3.1.1', 1883, 4, {}, 5],
      ['a username without a password, MQTT 5', 1883, 5, { username: 'alice' }, 135],
      ['an unknown user, MQTT 5', 1883, 5, { username: 'mallory', password: 'guess' }, 135],
      ['a wrong password over wss://, MQTT 5', 9443, 5, { username: 'alice', password: 'not-her-password' }, 135],
    ] as const)('%s: NotAuthorizedError within seconds, once, no reconnect storm', async (_, listener, protocolVersion, credentials, code) => {
      const before = (await broker.log()).length
      const started = Date.now()
      const refused = client('refused', { protocolVersion, ...credentials, reconnect: { initialDelay: 50, maxDelay: 200 } }, listener)
      const observed = firstValueFrom(refused.observe(`users/alice/#`).pipe(toArray())).then(
        () => new Error('the observer completed instead of erroring'),
        (error: unknown) => error,
      )
      const publish = refused.publish('users/alice/hello', 'hi', { qos: 1 }).then(
        () => new Error('the publish resolved'),
        (error: unknown) => error,
      )
      const statuses = await firstValueFrom(refused.status$.pipe(toArray()))
      const elapsed = Date.now() - started

      const closed = statuses.at(-1) as Extract<Status, { type: 'closed' }>
      expect(statuses.map((s) => s.type)).toEqual(['connecting', 'closed'])
      expect(closed.error).toBeInstanceOf(NotAuthorizedError)
      expect(closed.error?.reasonCode).toBe(code)
      expect(closed.error?.message).toMatch(/not authori[sz]ed/i)
      expect(elapsed).toBeLessThan(3_000)
      expect(await observed).toBeInstanceOf(NotAuthorizedError)
      // A publish made while the login was pending rejects with the same error.
      expect(await publish).toBeInstanceOf(NotAuthorizedError)

      // The broker saw exactly one refused login, and no further attempt comes within a window in which
      // the eager reconnect policy above would have retried about ten times.
      const refusals = async () => count((await broker.log()).slice(before), /disconnected, not authorised|Client <unknown> closed its connection/)
      await waitFor(async () => (await refusals()) >= 1, 'the refusal in the broker log', 5_000)
      await expect(waitFor(async () => (await refusals()) > 1, 'a second attempt', 600)).rejects.toThrow(/timed out/)
      if (listener === 1883) {
        const port = broker.ports[1883]
        expect(count((await broker.log()).slice(before), new RegExp(`New connection from 127\\.0\\.0\\.1:\\d+ on port ${port}\\.`))).toBe(1)
      }
      console.log(`refused login (${_}): NotAuthorizedError ${code} after ${elapsed} ms, 1 attempt in the broker log`)
    })
  })

  describe('ACL (deny by default, users/%u/#, devices and dashboards)', () => {
    it('a user reads and writes its own users/<name>/# and never receives another user\'s messages', async () => {
      const alice = client('alice')
      const bob = client('bob')
      await Promise.all([connected(alice), connected(bob)])
      const suffix = uniquePrefix('acl').replaceAll('/', '_')

      // Alice asks for everything; the broker grants the SUBSCRIBE and filters on delivery.
      const everything: string[] = []
      const all = alice.observe('#').subscribe((m) => everything.push(m.topic))
      const users$ = alice.observe('users/#')
      const own = next(users$, 'alice\'s own message', (m) => m.topic === `users/alice/${suffix}/ready`)
      await publishUntil(own, () => alice.publish(`users/alice/${suffix}/ready`, 'ready', { qos: 1 }))

      await bob.publish(`users/bob/${suffix}/secret`, 'for bob only', { qos: 1 })
      const marker = next(users$, 'the marker after bob\'s message', (m) => m.topic === `users/alice/${suffix}/after`)
      await alice.publish(`users/alice/${suffix}/after`, 'after', { qos: 1 })
      await marker
      all.unsubscribe()
      expect(everything).toContain(`users/alice/${suffix}/after`)
      expect(everything.filter((t) => t.startsWith('users/bob/'))).toEqual([])
    })

    it('a publish the ACL denies rejects with PublishError 135 under MQTT 5', async () => {
      const alice = client('alice')
      await connected(alice)
      const error = await alice.publish('users/bob/inbox', 'spoofed', { qos: 1 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(PublishError)
      expect((error as PublishError).reasonCode).toBe(135)
      await expect(alice.publish('devices/sensor-1/telemetry', 'spoofed', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
      // The connection survives a denied publish.
      await alice.publish('users/alice/still-here', 'yes', { qos: 1 })
    })

    it('under MQTT 3.1.1 the same denial is invisible: PUBACK success, message dropped (raw MQTT.js)', async () => {
      const alice = await rawClient(broker.url('mqtt', 1883), { clientId: 'secure-raw311', username: 'alice', password: users.alice, protocolVersion: 4 })
      raw.push(alice)
      await expect(alice.publishAsync('users/bob/inbox', 'dropped', { qos: 1 })).resolves.toBeDefined()
      // And a SUBACK is no proof of authorisation: `#` is granted at the QoS asked for.
      const granted = await alice.subscribeAsync('#', { qos: 1 })
      expect(granted[0]?.qos).toBe(1)
    })

    it('devices publish only their own telemetry/status/reply and receive only their own cmd; a dashboard reads all and commands', async () => {
      const dashboard = client('dashboard')
      const sensor1 = client('sensor-1')
      const sensor2 = client('sensor-2')
      await Promise.all([connected(dashboard), connected(sensor1), connected(sensor2)])

      const telemetry = next(dashboard.observe<{ t: number }>('devices/+/telemetry', { codec: 'json', qos: 1 }), 'sensor-1 telemetry')
      const reading = await publishUntil(telemetry, () => sensor1.publish('devices/sensor-1/telemetry', { t: 21.5 }, { qos: 1 }))
      expect(reading).toMatchObject({ topic: 'devices/sensor-1/telemetry', payload: { t: 21.5 }, params: ['sensor-1'] })

      // sensor-1 listens to every device's commands but only its own arrive.
      const seen: string[] = []
      const cmd$ = sensor1.observe('devices/+/cmd', { qos: 1 })
      const watch = cmd$.subscribe((m) => seen.push(m.topic))
      const own = next(cmd$, 'sensor-1 cmd', (m) => m.topic === 'devices/sensor-1/cmd')
      await publishUntil(own, () => dashboard.publish('devices/sensor-1/cmd', 'reboot', { qos: 1 }))
      await dashboard.publish('devices/sensor-2/cmd', 'reboot', { qos: 1 })
      const after = next(cmd$, 'a second sensor-1 cmd', (m) => m.topic === 'devices/sensor-1/cmd' && m.raw.length === 4)
      await dashboard.publish('devices/sensor-1/cmd', 'ping', { qos: 1 })
      await after
      watch.unsubscribe()
      expect(seen).not.toContain('devices/sensor-2/cmd')

      const replies = next(dashboard.observe('devices/+/reply', { qos: 1 }), 'a reply')
      await publishUntil(replies, () => sensor1.publish('devices/sensor-1/reply', 'done', { qos: 1 }))

      // Spoofing is refused with reason code 135 in every direction.
      await expect(sensor1.publish('devices/sensor-2/telemetry', { t: -99 }, { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
      await expect(sensor1.publish('devices/sensor-2/cmd', 'x', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
      await expect(sensor2.publish('devices/sensor-2/cmd', 'x', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
      await expect(dashboard.publish('devices/sensor-1/telemetry', { t: 0 }, { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
      await expect(dashboard.publish('users/alice/x', 'x', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
    })
  })

  describe('users.sh and reload (kill -HUP)', () => {
    it('a user added with users.sh can log in after SIGHUP; after removal and SIGHUP it is refused', async () => {
      const passwd = join(broker.dir, 'config', 'passwd')
      const added = await runUsers(passwd, ['add', 'carol'], 'carol-secret\n')
      expect(added.code).toBe(0)
      expect(added.stderr).toMatch(/kill -s HUP/)

      // Not before the reload.
      const early = client('carol', { username: 'carol', password: 'carol-secret', reconnect: false })
      expect((await next(early.status$, 'closed', (s) => s.type === 'closed')).type).toBe('closed')

      const reloads = count(await broker.log(), /Reloading config/)
      broker.signal('SIGHUP')
      await waitFor(async () => count(await broker.log(), /Reloading config/) > reloads, 'the reload in the log')
      const carol = client('carol', { username: 'carol', password: 'carol-secret', reconnect: false })
      await connected(carol)
      await carol.publish('users/carol/hello', 'hi', { qos: 1 })

      expect((await runUsers(passwd, ['remove', 'carol'])).code).toBe(0)
      expect((await runUsers(passwd, ['list'])).stdout.split('\n')).not.toContain('carol')
      const reloads2 = count(await broker.log(), /Reloading config/)
      broker.signal('SIGHUP')
      await waitFor(async () => count(await broker.log(), /Reloading config/) > reloads2, 'the second reload in the log')

      // The reload also closes the connection carol still had open (mosquitto 2.0.11 re-checks clients).
      await next(carol.status$, 'carol disconnected by the reload', (s) => s.type === 'closed')
      await broker.waitForLog(new RegExp(`Client ${carol.clientId} disconnected\\.`))

      const late = client('carol', { username: 'carol', password: 'carol-secret', reconnect: false })
      const closed = await next(late.status$, 'closed', (s) => s.type === 'closed')
      expect(closed.type === 'closed' && closed.error).toBeInstanceOf(NotAuthorizedError)
    })
  })
})
