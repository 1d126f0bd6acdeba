// mosquitto/README.md's "Docker" section, development profile, as a user types it: a copy of the kit, the
// README's `.env` for host ports (free ones here, on loopback), `docker compose up -d`; then clients of the SDK
// over mqtt:// and ws:// (one of them a page in Chromium), and persistence across `restart` and `down`/`up`.
import type { Browser } from 'playwright-core'
import { connect, type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, noChromium } from '../support/chromium.js'
import { ClientPool } from '../support/clients.js'
import { imageReady, KitCopy, noDockerEngine, readme, shellBlocks } from '../support/docker.js'
import { bundlePage, servePages } from '../support/page-server.js'
import { publishUntil } from '../support/probe.js'
import { nextMessage, rawClient } from '../support/raw.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const RUNNING = /mosquitto version \S+ running/

/** The README's host-ports block with this copy's free ports put in (`VAR=127.0.0.1:PORT`). */
function portsBlock(kit: KitCopy): string {
  const block = shellBlocks(readme(), 'Docker').find((b) => b.includes("cat > .env <<'EOF'"))
  if (!block) throw new Error('the README has no host-ports block')
  return block.replace(/^(MQTT_PORT|WS_PORT|MQTTS_PORT|WSS_PORT)=.*$/gm, (_, name: keyof KitCopy['ports']) => `${name}=127.0.0.1:${kit.ports[name]}`)
}

describe.skipIf(noDockerEngine())('mosquitto/ under Docker: the development profile as the README has it', () => {
  let kit: KitCopy
  const pool = new ClientPool('docker-dev')
  const raw: MqttClient[] = []

  beforeAll(async () => {
    await imageReady()
    kit = await KitCopy.create('dev')
  })
  afterAll(async () => {
    await Promise.all(raw.map((c) => c.endAsync(true)))
    await pool.endAll()
    await kit?.dispose()
  })

  it('starts with the README\'s commands, on the host ports of its .env example, without errors or warnings, as uid 1883', async () => {
    const [first] = shellBlocks(readme(), 'Docker')
    const lines = (first ?? '').trim().split('\n')
    // The copy is what `cp -r mosquitto /srv/mosquitto` made, and the commands run in it (`cd`).
    expect(lines.slice(0, 2)).toEqual(['cp -r mosquitto /srv/mosquitto', 'cd /srv/mosquitto'])
    // The host ports first: the machine's own broker holds 1883.
    await kit.must(portsBlock(kit))
    for (const line of lines.slice(2)) {
      // `logs -f` follows forever: bounded here, and what it shows is checked.
      const bounded = line.includes('logs -f') ? `timeout 5 ${line}; test $? -eq 124` : line
      await kit.must(bounded)
    }
    const logs = await kit.waitForLog(RUNNING, 'mosquitto running')
    expect(logs).not.toMatch(/Read-only file system|chown:/)
    expect(logs).not.toMatch(/Warning|Error/)
    expect(logs).toMatch(/Opening websockets listen socket on port 9001/)
    // PID 1 of the container is mosquitto (the entrypoint execs it); it runs as uid and gid 1883.
    const status = await kit.must('docker compose exec -T mosquitto cat /proc/1/status')
    expect(status).toMatch(/^Name:\s+mosquitto$/m)
    expect(status).toMatch(/^Uid:\s+1883\s+1883\s+1883\s+1883$/m)
    expect(status).toMatch(/^Gid:\s+1883\s+1883\s+1883\s+1883$/m)
    // Only the development listeners are published, on the ports of .env.
    const ports = await kit.must('docker compose ps --format "{{.Ports}}"')
    expect(ports).toContain(`127.0.0.1:${kit.ports.MQTT_PORT}->1883/tcp`)
    expect(ports).toContain(`127.0.0.1:${kit.ports.WS_PORT}->9001/tcp`)
    expect(ports).not.toMatch(/->(8883|9443)\//)
  })

  it('lets SDK clients over mqtt:// and ws:// exchange messages both ways', async () => {
    const prefix = uniquePrefix('docker-dev')
    const tcp = await pool.connected(kit.url('mqtt', 'MQTT_PORT'), { reconnect: false })
    const ws = await pool.connected(kit.url('ws', 'WS_PORT'), { reconnect: false })
    const atWs = next(ws.observe<{ n: number }>(`${prefix}/+/reading`, { qos: 1, codec: 'json' }), 'a reading over ws', undefined, 20_000)
    const fromTcp = await publishUntil(atWs, () => tcp.publish(`${prefix}/kitchen/reading`, { n: 1 }, { qos: 1 }))
    expect(fromTcp.payload).toEqual({ n: 1 })
    expect(fromTcp.params).toEqual(['kitchen'])
    const atTcp = next(tcp.observe<{ n: number }>(`${prefix}/+/reply`, { qos: 1, codec: 'json' }), 'a reply over tcp', undefined, 20_000)
    const fromWs = await publishUntil(atTcp, () => ws.publish(`${prefix}/hall/reply`, { n: 2 }, { qos: 1 }))
    expect(fromWs.payload).toEqual({ n: 2 })
  })

  // The browser path once, in Chromium: the SDK's browser entry on a page, over ws:// to the container.
  it.skipIf(noChromium())('lets a page in Chromium connect over ws:// and receive a message', async () => {
    const prefix = uniquePrefix('docker-page')
    const script = await bundlePage({
      name: 'docker-page.ts',
      code: `import { connect } from 'iotpubsub'
const client = connect(${JSON.stringify(kit.url('ws', 'WS_PORT'))}, { clientId: 'docker-page-' + Date.now() })
window.__received = null
client.observe(${JSON.stringify(`${prefix}/#`)}, { qos: 1 }).subscribe((m) => { window.__received = m.topic + ' ' + m.payload })`,
    })
    const pages = await servePages([{ path: '/', script }])
    let browser: Browser | undefined
    try {
      browser = await launchChromium()
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(pages.origin)
      const publisher = await pool.connected(kit.url('mqtt', 'MQTT_PORT'), { reconnect: false })
      const received = waitFor(() => page.evaluate(() => (window as unknown as { __received: string | null }).__received), 'the page to receive the message', 30_000, 100)
      const text = await publishUntil(received, () => publisher.publish(`${prefix}/from-node`, 'hello page', { qos: 1 }), 200)
      expect(text).toBe(`${prefix}/from-node hello page`)
      expect(errors).toEqual([])
    } finally {
      await browser?.close()
      await pages.close()
    }
  })

  it('keeps a retained message and a persistent session\'s queued QoS 1 message across `docker compose restart` and `down` + `up`', async () => {
    for (const [step, commands, starts] of [
      ['restart', ['docker compose restart'], 2],
      ['down/up', ['docker compose down', 'docker compose up -d'], 1],
    ] as const) {
      const prefix = uniquePrefix(`docker-persist-${step.replace('/', '-')}`)
      const clientId = `docker-persist-${step.replace('/', '-')}-${process.pid}`
      const session = { clientId, clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 } }
      // A subscriber with a persistent session goes away; a message for it is queued, another is retained.
      const subscriber = await rawClient(kit.url('mqtt', 'MQTT_PORT'), session)
      await subscriber.subscribeAsync(`${prefix}/queued`, { qos: 1 })
      await subscriber.endAsync()
      const publisher = await rawClient(kit.url('mqtt', 'MQTT_PORT'), { clientId: `${clientId}-pub` })
      await publisher.publishAsync(`${prefix}/queued`, 'kept for you', { qos: 1 })
      await publisher.publishAsync(`${prefix}/state`, 'on', { qos: 1, retain: true })
      await publisher.endAsync()

      const before = (await kit.logs()).match(new RegExp(RUNNING.source, 'g'))?.length ?? 0
      for (const line of commands) await kit.must(line)
      // After `down` the container's log starts again; after `restart` it goes on.
      await kit.waitForLog(RUNNING, `mosquitto running again after ${step}`, step === 'restart' ? before + 1 : starts)

      // The queued message can arrive in the CONNACK's packet: the listener is on before the client connects.
      const back = connect(kit.url('mqtt', 'MQTT_PORT'), { ...session, reconnectPeriod: 0, connectTimeout: 15_000 })
      raw.push(back)
      const queued = nextMessage(back, `${prefix}/queued`, 30_000)
      expect((await queued).payload).toBe('kept for you')
      expect(back.connected).toBe(true)
      const fresh = await rawClient(kit.url('mqtt', 'MQTT_PORT'), { clientId: `${clientId}-fresh` })
      raw.push(fresh)
      const retained = nextMessage(fresh, `${prefix}/state`, 20_000)
      await fresh.subscribeAsync(`${prefix}/state`, { qos: 1 })
      expect(await retained).toMatchObject({ payload: 'on', retain: true })
    }
  })
})
