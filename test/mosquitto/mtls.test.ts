import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, type ClientOptions, type MQTTClient, type Status } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { runScript, TestCerts, type ClientCert } from '../support/certs.js'
import type { Mosquitto } from '../support/mosquitto.js'
import { publishUntil } from '../support/probe.js'
import { rawClient } from '../support/raw.js'
import { startSecureBroker } from '../support/secure-broker.js'
import { next, waitFor } from '../support/wait.js'

const run = promisify(execFile)

/** The first status that is not `connecting`: `connected`, or the error of `reconnecting`/`closed`. */
async function outcome(client: MQTTClient): Promise<Status> {
  return next(client.status$, 'connected, reconnecting or closed', (s) => s.type !== 'connecting')
}

function errorOf(status: Status): Error | undefined {
  return status.type === 'reconnecting' || status.type === 'closed' ? status.error : undefined
}

// X.509 client certificates on the secured profile's 8883 listener (require_certificate +
// use_identity_as_username), and wss:// on 9443 verified against the same private CA.
describe.skipIf(noMosquitto())('mosquitto/mosquitto-secure.conf: client certificates (mTLS) and wss://', () => {
  let certs: TestCerts
  let broker: Mosquitto
  let sensor7: ClientCert
  const clients: MQTTClient[] = []

  beforeAll(async () => {
    certs = await TestCerts.make({ clients: ['sensor-7', 'dashboard'] })
    sensor7 = await certs.client('sensor-7')
    broker = await startSecureBroker({ users: { dashboard: 'dashboard-secret' }, certs })
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()))
    await broker?.dispose()
    await certs?.dispose()
  })

  let ids = 0
  function mqtts(name: string, options: ClientOptions): MQTTClient {
    ids += 1
    const client = connect(broker.url('mqtts', 8883), { clientId: `mtls-${ids}-${name}`, protocolVersion: 5, ca: certs.ca, ...options })
    clients.push(client)
    return client
  }

  it('a valid client certificate connects with its CN as username, and the ACL applies to that CN', async () => {
    const device = mqtts('sensor-7', { ...sensor7 })
    expect(await outcome(device)).toMatchObject({ type: 'connected' })
    await broker.waitForLog(new RegExp(`as ${device.clientId} \\(p5, c1, k30, u'sensor-7'\\)`))

    // A dashboard in Node over wss://, password login, the broker's certificate checked against the CA.
    const dashboard = connect(broker.url('wss', 9443), { clientId: 'mtls-dashboard-wss', username: 'dashboard', password: 'dashboard-secret', ca: certs.ca })
    clients.push(dashboard)
    expect(await outcome(dashboard)).toMatchObject({ type: 'connected' })

    const telemetry = next(dashboard.observe<{ v: number }>('devices/+/telemetry', { codec: 'json', qos: 1 }), 'sensor-7 telemetry over wss')
    const message = await publishUntil(telemetry, () => device.publish('devices/sensor-7/telemetry', { v: 7 }, { qos: 1 }))
    expect(message).toMatchObject({ topic: 'devices/sensor-7/telemetry', payload: { v: 7 }, params: ['sensor-7'] })

    const commands = next(device.observe('devices/sensor-7/cmd', { qos: 1 }), 'a command for sensor-7')
    await publishUntil(commands, () => dashboard.publish('devices/sensor-7/cmd', 'blink', { qos: 1 }))

    await device.publish('users/sensor-7/notes', 'mine', { qos: 1 })
    await expect(device.publish('devices/sensor-8/telemetry', { v: 8 }, { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
    await expect(device.publish('users/dashboard/notes', 'not mine', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
  })

  it('ignores a username and password sent with a certificate: the CN decides', async () => {
    const device = mqtts('sensor-7-as-dashboard', { ...sensor7, username: 'dashboard', password: 'dashboard-secret' })
    expect(await outcome(device)).toMatchObject({ type: 'connected' })
    await broker.waitForLog(new RegExp(`as ${device.clientId} \\(p5, c1, k30, u'sensor-7'\\)`))
    await expect(device.publish('devices/sensor-9/cmd', 'x', { qos: 1 })).rejects.toMatchObject({ reasonCode: 135 })
  })

  it('a certificate a device made itself (key + CSR on the device, signed by make-certs.sh sign) works', async () => {
    const work = await mkdtemp(join(tmpdir(), 'iotpubsub-csr-'))
    try {
      // On the device: the key never leaves it, only the request does.
      await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(work, 'sensor-42.key'), '-out', join(work, 'sensor-42.csr'), '-subj', '/CN=sensor-42'])
      // At the CA.
      const progress = await runScript(certs.kitDir, ['sign', join(work, 'sensor-42.csr')])
      expect(progress).toMatch(/signed .*sensor-42\.crt \(CN=sensor-42\)/)
      const device = mqtts('sensor-42', { cert: await readFile(join(work, 'sensor-42.crt'), 'utf8'), key: await readFile(join(work, 'sensor-42.key'), 'utf8') })
      expect(await outcome(device)).toMatchObject({ type: 'connected' })
      await broker.waitForLog(new RegExp(`as ${device.clientId} \\(p5, c1, k30, u'sensor-42'\\)`))
      await device.publish('devices/sensor-42/status', 'online', { qos: 1, retain: true })
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  })

  it('works with mosquitto_pub and mosquitto_sub and the files make-certs.sh wrote (the README commands)', async () => {
    const kit = certs.kitDir
    const port = String(broker.ports[8883])
    const tls = (name: string) => ['--cafile', join(kit, 'ca.crt'), '--cert', join(kit, 'clients', `${name}.crt`), '--key', join(kit, 'clients', `${name}.key`)]
    await run('mosquitto_pub', ['-h', 'localhost', '-p', port, '-i', 'cli-sensor-7', ...tls('sensor-7'), '-t', 'devices/sensor-7/status', '-m', 'online', '-r', '-q', '1'], { cwd: kit })
    const { stdout } = await run('mosquitto_sub', ['-h', 'localhost', '-p', port, '-i', 'cli-dashboard', ...tls('dashboard'), '-t', 'devices/sensor-7/status', '-v', '-C', '1', '-W', '5'], { cwd: kit })
    expect(stdout.trim()).toBe('devices/sensor-7/status online')
    // Without -i the command-line clients send an empty client id, which this profile refuses.
    await expect(run('mosquitto_pub', ['-h', 'localhost', '-p', port, ...tls('sensor-7'), '-t', 'devices/sensor-7/status', '-m', 'x'])).rejects.toThrow(/identifier rejected/)
  })

  describe('refused with a clear error', () => {
    it.each([
      ['no client certificate', async () => ({}), /certificate required/i],
      ['a certificate from another CA', async () => certs.foreignClient('sensor-7'), /unknown ca/i],
      ['an expired certificate from the kit CA', async () => certs.expiredClient('sensor-7'), /certificate expired/i],
    ] as const)('%s', async (what, make, expected) => {
      const before = (await broker.log()).length
      const client = mqtts(`refused-${what.replaceAll(' ', '-')}`, { ...(await make()), reconnect: false })
      const status = await outcome(client)
      expect(status.type).toBe('closed')
      const error = errorOf(status)
      expect(error?.message ?? '').toMatch(expected)
      // The broker logs its side, as "OpenSSL Error[0]: ..." or, when the handshake fails while the
      // connection is being accepted, "Client connection from 127.0.0.1 failed: ...".
      const reason = /peer did not return a certificate|certificate verify failed/
      await waitFor(async () => reason.test((await broker.log()).slice(before)), 'the refusal in the broker log', 5_000).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${(await broker.log()).slice(before)}`)
      })
      console.log(`mTLS ${what}: ${error?.name}: ${error?.message}`)
    })

    it('a client that does not trust the kit CA refuses the broker (and rejectUnauthorized defaults to true)', async () => {
      const client = connect(broker.url('mqtts', 8883), { ...sensor7, clientId: 'mtls-no-ca', reconnect: false })
      clients.push(client)
      const error = errorOf(await outcome(client))
      expect(error?.message ?? '').toMatch(/self[- ]signed certificate in certificate chain/i)
    })

    it('checks the host name: 127.0.0.1 and localhost are in the certificate, other names are not', async () => {
      const ok = mqtts('servername-localhost', { ...sensor7, servername: 'localhost' })
      expect(await outcome(ok)).toMatchObject({ type: 'connected' })
      const wrong = mqtts('servername-wrong', { ...sensor7, servername: 'broker.example.net', reconnect: false })
      const error = errorOf(await outcome(wrong))
      expect(error?.message ?? '').toMatch(/Hostname\/IP does not match certificate's altnames/)
      console.log(`wrong servername: ${error?.message}`)
    })

    it('refuses TLS 1.1 (tls_version tlsv1.2 is the minimum)', async () => {
      const error = await rawClient(broker.url('mqtts', 8883), { clientId: 'mtls-tls11', ca: certs.ca, ...sensor7, maxVersion: 'TLSv1.1', minVersion: 'TLSv1.1' } as object).then(
        (c) => (c.end(true), new Error('connected')),
        (e: Error) => e,
      )
      expect(`${(error as NodeJS.ErrnoException).code} ${error.message}`).toMatch(/EPROTO|protocol version|no protocols available|unsupported protocol/i)
      console.log(`TLS 1.1 client: ${(error as NodeJS.ErrnoException).code} ${error.message}`)
    })

    // The websockets listener sends no chain, so Node's message differs from the 8883 one.
    it('wss:// without the CA is refused by Node; with it, it connects (see the first test)', async () => {
      const client = connect(broker.url('wss', 9443), { clientId: 'mtls-wss-no-ca', username: 'dashboard', password: 'dashboard-secret', reconnect: false })
      clients.push(client)
      const error = errorOf(await outcome(client))
      expect(error?.message ?? '').toMatch(/self[- ]signed certificate|unable to verify the first certificate/i)
    })
  })
})
