// The Svelte recipe of docs/start/svelte.md, run as printed: its `mqtt.js` (the `dashboards:svelte-client` block, with the
// private Mosquitto's WebSocket URL and a client id of this test) and its component (`dashboards:svelte`,
// with the topic moved under this test's prefix, compiled by svelte/compiler to client code) are written to
// a scratch folder and loaded as modules, 'iotpubsub' being the SDK's Node entry; the component is mounted
// in a happy-dom document. It must render the status and the retained and live values, and destroying it
// must send the UNSUBSCRIBE.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'
import { block, repoDir } from '../readme/readme-kit.js'
import { settledPackets } from './broker-log.js'
import { installDom } from './dom.js'

/** The page that holds the recipe. */
const svelteRecipe = 'docs/start/svelte.md'
const dom = installDom()
const { compile } = await import('svelte/compiler')
// The client runtime's entry ('svelte' resolves to the server one under Node's conditions).
const { mount, unmount, flushSync } = (await import(pathToFileURL(join(repoDir, 'node_modules/svelte/src/index-client.js')).href)) as typeof import('svelte')

describe.skipIf(noMosquitto())('the Svelte recipe of docs/start/svelte.md', () => {
  let broker: Mosquitto
  let scratch: string
  const pool = new ClientPool('svelte-recipe')
  let recipeClient: MQTTClient | undefined

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    // Inside the repository (test-artifacts/ is ignored by git), so that the modules' imports resolve.
    await mkdir(join(repoDir, 'test-artifacts'), { recursive: true })
    scratch = await mkdtemp(join(repoDir, 'test-artifacts/svelte-'))
  })
  afterAll(async () => {
    await pool.endAll()
    await recipeClient?.end({ force: true })
    await broker?.dispose()
    if (scratch) await rm(scratch, { recursive: true, force: true })
    await dom.dispose()
  })

  it('is a Svelte block that compiles without warnings', () => {
    const { lang, code } = block('dashboards:svelte', svelteRecipe)
    expect(lang).toBe('svelte')
    const { warnings } = compile(code, { generate: 'client', filename: 'Kitchen.svelte' })
    expect(warnings.map((w) => w.message)).toEqual([])
  })

  it('renders the status, the retained and the live value, and unsubscribes when destroyed', async () => {
    const prefix = uniquePrefix('svelte')
    const { code } = block('dashboards:svelte', svelteRecipe)
    expect(code).toContain("'rooms/kitchen/temp'")
    const source = code.replace("'rooms/kitchen/temp'", `'${prefix}/temp'`)
    const compiled = compile(source, { generate: 'client', filename: 'Kitchen.svelte' })
    const file = join(scratch, 'Kitchen.js')
    await writeFile(file, compiled.js.code)
    const module = block('dashboards:svelte-client', svelteRecipe).code
    expect(module).toContain("connect('ws://localhost:9001', { clientId: 'dash-1' })")
    const clientId = `svelte-recipe-${process.pid}`
    await writeFile(join(scratch, 'mqtt.js'), module.replace("'ws://localhost:9001'", JSON.stringify(broker.wsUrl)).replace("'dash-1'", JSON.stringify(clientId)))
    const { client } = (await import(pathToFileURL(join(scratch, 'mqtt.js')).href)) as { client: MQTTClient }
    const Kitchen = ((await import(pathToFileURL(file).href)) as { default: Parameters<typeof mount>[0] }).default
    recipeClient = client
    expect(client.clientId).toBe(clientId)

    const publisher = await pool.connected(broker.tcpUrl)
    await publisher.publish(`${prefix}/temp`, { celsius: 21.5 }, { qos: 1, retain: true })
    const target = dom.document.createElement('div')
    dom.document.body.appendChild(target)
    await waitForStatus(client, 'connected')
    const component = mount(Kitchen, { target: target as unknown as Element })
    flushSync()
    expect(target.textContent).toMatch(/^connected: (…|21\.5) °C$/)
    await waitFor(() => target.textContent === 'connected: 21.5 °C', 'the retained value on the page')

    await next(client.subscriptions$, 'the SUBACK', (list) => list[0]?.grantedQos !== undefined)
    await publisher.publish(`${prefix}/temp`, { celsius: 22 }, { qos: 1 })
    await waitFor(() => target.textContent === 'connected: 22 °C', 'the live value on the page')

    await unmount(component)
    await next(client.subscriptions$, 'the release', (list) => list.length === 0)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[`${prefix}/temp`]])
    expect(packets.unsubscribes).toEqual([[`${prefix}/temp`]])
  })
})
