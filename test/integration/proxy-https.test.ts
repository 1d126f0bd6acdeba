// Issue 27: https:// proxies, TLS to the proxy itself and then CONNECT inside it. The proxy is tinyproxy behind
// a Node TLS server made here with the kit's test certificates (test/support/proxies.ts), in front of a private
// Mosquitto. A client verifies the proxy against Node's CAs, so the one that succeeds runs as a user's script in
// a Node process of its own with the test CA in NODE_EXTRA_CA_CERTS (which Node reads only at start); the test
// runner's own process, which does not trust that CA, shows the refusal. Over each link.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProxyError } from '../../lib/node.js'
import { nodeArgs, start, stopAll, userEnv, userProject } from '../readme/readme-kit.js'
import { noMosquitto } from '../support/binaries.js'
import { TestCerts } from '../support/certs.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { Mosquitto } from '../support/mosquitto.js'
import { startSecureBroker } from '../support/secure-broker.js'
import { noProxies, type ProxyProcess, startTinyproxy, startTlsFront, type TlsFront } from '../support/proxies.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** A user's script: each URL through the proxy (a message there and back), then a wrong proxy password. */
const SCRIPT = `import { connect } from 'iotpubsub'

const { PROXY, WRONG_PROXY, URLS, SECURE_URLS, TOPIC, CLIENT_CERT, CLIENT_KEY } = process.env as Record<string, string>

function roundTrip(url: string): Promise<void> {
  return new Promise((done, fail) => {
    const client = connect(url, { proxy: PROXY, reconnect: false })
    client.observe(TOPIC + '/' + url.split(':')[0], { codec: 'text' }).subscribe({
      next: (message) => {
        console.log(url.split(':')[0] + ': ' + message.payload)
        void client.end().then(done)
      },
      error: fail,
    })
    client.publish(TOPIC + '/' + url.split(':')[0], 'through the https proxy', { qos: 1 }).catch(fail)
  })
}

for (const url of URLS.split(' ')) await roundTrip(url)

// The broker's TLS inside the proxy's, each verified: mqtts:// (a client certificate) and wss:// (a password)
// to the kit's secured profile.
for (const url of SECURE_URLS.split(' ')) {
  const login = url.startsWith('mqtts:') ? { cert: CLIENT_CERT, key: CLIENT_KEY } : { username: 'dashboard', password: 'dashboard-secret' }
  const client = connect(url, { proxy: PROXY, ...login, reconnect: false })
  await new Promise<void>((done) => client.status$.subscribe((status) => {
    if (status.type === 'connected') {
      console.log('connected: ' + url.split(':')[0])
      void client.end().then(done)
    }
    if (status.type === 'closed' && status.error) console.log('closed: ' + status.error.message)
  }))
}

const refused = connect(URLS.split(' ')[0]!, { proxy: WRONG_PROXY, reconnect: { initialDelay: 50, maxDelay: 100 } })
refused.status$.subscribe((status) => {
  if (status.type === 'reconnecting') console.log('reconnecting: ' + status.error.name)
  if (status.type === 'closed') console.log('closed: ' + status.error?.name + ': ' + status.error?.message)
})
`

describe.skipIf(noMosquitto() || noProxies())('https:// proxies in Node', () => {
  let certs: TestCerts
  let broker: Mosquitto
  let secure: Mosquitto
  let tinyproxy: ProxyProcess
  let front: TlsFront
  const pool = new ClientPool('proxy-https')
  const tcp = () => broker.ports[1883] as number
  const ws = () => broker.ports[9001] as number

  beforeAll(async () => {
    certs = await TestCerts.make({ clients: ['sensor-7'] })
    broker = await Mosquitto.start({ persistence: false })
    secure = await startSecureBroker({ users: { dashboard: 'dashboard-secret' }, certs })
    const securePorts = [secure.ports[8883] as number, secure.ports[9443] as number]
    tinyproxy = await startTinyproxy({ user: 'alice', password: 'pa55', connectPorts: [tcp(), ws(), ...securePorts] })
    front = await startTlsFront({ target: tinyproxy.port, cert: certs.serverCert, key: certs.serverKey })
  })
  afterAll(async () => {
    stopAll()
    await pool.endAll()
    await front?.close()
    await Promise.all([broker?.dispose(), secure?.dispose(), tinyproxy?.dispose()])
    await certs?.dispose()
  })

  it('carries mqtt://, ws://, mqtts:// and wss:// over TLS to the proxy, verified against NODE_EXTRA_CA_CERTS; a wrong proxy password is final', async () => {
    const project = await userProject()
    try {
      const file = join(project.dir, 'through-https-proxy.mts')
      await writeFile(file, SCRIPT)
      const before = front.counts.secure
      const script = start(process.execPath, [...nodeArgs, file], {
        cwd: project.dir,
        env: userEnv({
          IOTPUBSUB_LINK: linkUnderTest(),
          NODE_EXTRA_CA_CERTS: join(certs.kitDir, 'ca.crt'),
          PROXY: `https://alice:pa55@127.0.0.1:${front.port}`,
          WRONG_PROXY: `https://alice:wrong@127.0.0.1:${front.port}`,
          URLS: `mqtt://127.0.0.1:${tcp()} ws://127.0.0.1:${ws()}`,
          SECURE_URLS: `${secure.url('mqtts', 8883)} ${secure.url('wss', 9443)}`,
          CLIENT_CERT: (await certs.client('sensor-7')).cert,
          CLIENT_KEY: (await certs.client('sensor-7')).key,
          TOPIC: uniquePrefix('proxy-https'),
        }),
      })
      const code = await script.exit(30_000)
      expect({ code, stderr: script.stderr, stdout: script.stdout.slice(0, 4) }).toEqual({
        code: 0,
        stderr: [],
        stdout: ['mqtt: through the https proxy', 'ws: through the https proxy', 'connected: mqtts', 'connected: wss'],
      })
      // tinyproxy answers a CONNECT with wrong credentials 401, not 407: either is the proxy's refusal.
      expect(script.stdout.slice(4)).toEqual([expect.stringMatching(new RegExp(`^closed: ProxyAuthenticationError: the proxy https://127\\.0\\.0\\.1:${front.port} refused the proxy credentials \\(HTTP/1\\.[01] 40[17] `))])
      // Five TLS connections to the front (four tunnels and the refused one), and tinyproxy's CONNECTs inside them.
      expect(front.counts.secure - before).toBe(5)
      for (const port of [tcp(), ws(), secure.ports[8883], secure.ports[9443]]) await tinyproxy.waitForLines(new RegExp(`CONNECT 127\\.0\\.0\\.1:${port} HTTP`))
    } finally {
      await project.dispose()
    }
  })

  it('a proxy whose certificate does not verify: ProxyError naming it and NODE_EXTRA_CA_CERTS, final, one attempt', async () => {
    const before = front.counts.failed
    const client = pool.connect(`mqtt://127.0.0.1:${tcp()}`, { proxy: `https://alice:pa55@127.0.0.1:${front.port}`, reconnect: { initialDelay: 50, maxDelay: 100 } })
    const statuses: string[] = []
    client.status$.subscribe((status) => statuses.push(status.type))
    const closed = await waitForStatus(client, 'closed', 20_000)
    expect(closed.error).toBeInstanceOf(ProxyError)
    expect(closed.error?.message).toMatch(
      new RegExp(`^the proxy https://127\\.0\\.0\\.1:${front.port} did not pass TLS verification \\((SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY): .*\\); a proxy with a private CA needs it in NODE_EXTRA_CA_CERTS$`),
    )
    expect(closed.error?.message).not.toContain('pa55')
    expect(statuses).not.toContain('reconnecting')
    // The front sees the client's alert after the client has given up: wait for it.
    await waitFor(() => front.counts.failed - before === 1, 'the refused TLS handshake at the proxy', 10_000)
  })
})
