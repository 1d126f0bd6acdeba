// The ngx-mqtt migration guide's two versions of the same Angular component run as written, in Chromium (Angular
// compiles their templates in the page, JIT, without zone.js), against a private Mosquitto that stands in for the
// guide's broker (test/docs/migration-kit.ts). The ngx-mqtt side gets the provider its comment shows.
import { describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { noChromium } from '../support/chromium.js'
import { uniquePrefix } from '../support/wait.js'
import { blocks } from './docs-kit.js'
import { bundleBlock, driveKitchen, kitchenPeers, GUIDE_TOPIC } from './migration-kit.js'

const PAGE = 'migrate/ngx-mqtt.md'
/** The ngx-mqtt block's provider, as its comment gives it. */
const NGX_PROVIDER = "importProvidersFrom(MqttModule.forRoot({ hostname: 'localhost', port: 9001, path: '/' }))"

/** Bootstraps the block's `KitchenComponent`, as the app's main.ts would. */
function mount(providers: string, imports: string): string {
  return [
    "import { bootstrapApplication as __bootstrap } from '@angular/platform-browser'",
    "import { importProvidersFrom, provideZonelessChangeDetection } from '@angular/core'",
    imports,
    "document.body.append(document.createElement('app-kitchen'))",
    `void __bootstrap(KitchenComponent, { providers: [provideZonelessChangeDetection(), ${providers}] })`,
  ].join('\n')
}

describe.skipIf(noMosquitto() || noChromium())(`docs/${PAGE}: both versions of the component run`, () => {
  const versions = blocks(PAGE).filter((b) => b.lang === 'ts')
  const peers = kitchenPeers('migration-angular')

  it('has the two versions side by side on the guide topic, the ngx-mqtt one with its provider in a comment', () => {
    expect(versions).toHaveLength(2)
    for (const block of versions) expect(block.code).toContain(GUIDE_TOPIC)
    expect(versions[0]!.code).toContain(NGX_PROVIDER)
    expect(versions[1]!.code).toContain("connect('ws://localhost:9001')")
  })

  for (const [index, name] of ['ngx-mqtt', 'iotpubsub'].entries()) {
    it(`${name}: shows the kitchen's temperature, and its button publishes`, async () => {
      const block = versions[index]
      expect(block, `the ${name} block`).toBeDefined()
      const topic = `${uniquePrefix('migration-angular')}/kitchen/temp`
      const port = new URL(peers.broker.wsUrl).port
      // The JIT compiler first, as main.ts imports it before the app: the libraries' declarations need it as they load.
      const code = "import '@angular/compiler'\n" + block!.code.replaceAll(GUIDE_TOPIC, topic).replaceAll('ws://localhost:9001', peers.broker.wsUrl)
      const entry = name === 'ngx-mqtt'
        ? mount(NGX_PROVIDER.replace('9001', port).replace('localhost', '127.0.0.1'), "import { MqttModule } from 'ngx-mqtt'")
        : mount('', '')
      const script = await bundleBlock(code, entry, { loader: 'ts', tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } } })
      await driveKitchen(peers.browser, script, peers.device, topic, name)
    }, 60_000)
  }
})
