// The mqtt-react-hooks migration guide's two versions of the same app run as written, in Chromium, against a
// private Mosquitto that stands in for the guide's broker (test/docs/migration-kit.ts).
import { describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { noChromium } from '../support/chromium.js'
import { uniquePrefix } from '../support/wait.js'
import { blocks } from './docs-kit.js'
import { bundleBlock, driveKitchen, kitchenPeers, GUIDE_TOPIC, GUIDE_URL } from './migration-kit.js'

const PAGE = 'migrate/mqtt-react-hooks.md'
/** Renders the block's `App`, as the app's entry would. */
const MOUNT = "import { createRoot as __createRoot } from 'react-dom/client'\nconst __root = document.createElement('div')\ndocument.body.append(__root)\n__createRoot(__root).render(<App />)\n"

describe.skipIf(noMosquitto() || noChromium())(`docs/${PAGE}: both versions of the app run`, () => {
  const versions = blocks(PAGE).filter((b) => b.lang === 'tsx')
  const peers = kitchenPeers('migration-react')

  it('has the two versions side by side, both on the guide broker URL and topic', () => {
    expect(versions).toHaveLength(2)
    for (const block of versions) {
      expect(block.code).toContain(GUIDE_URL)
      expect(block.code).toContain(GUIDE_TOPIC)
    }
  })

  for (const [index, name] of ['mqtt-react-hooks', 'iotpubsub'].entries()) {
    it(`${name}: shows the status and the kitchen's temperature, and its button publishes`, async () => {
      const block = versions[index]
      expect(block, `the ${name} block`).toBeDefined()
      const topic = `${uniquePrefix('migration-react')}/kitchen/temp`
      const code = block!.code.replaceAll(GUIDE_URL, peers.broker.wsUrl).replaceAll(GUIDE_TOPIC, topic)
      const script = await bundleBlock(code, MOUNT, { loader: 'tsx', jsx: 'automatic' })
      // The guide's status words: mqtt-react-hooks says "Connected", iotpubsub's Status says "connected".
      await driveKitchen(peers.browser, script, peers.device, topic, name, (page) => page.getByRole('heading', { name: /Kitchen \((Connected|connected)\)/ }).waitFor({ timeout: 15_000 }))
    }, 60_000)
  }
})
