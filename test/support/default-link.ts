import type { ClientOptions, MQTTClient, MQTTClientOptions } from '../../lib/browser.js'

type Connect = (url: string | readonly string[], options?: ClientOptions) => MQTTClient
type ClientClass = new (options: MQTTClientOptions) => MQTTClient

/**
 * A browser entry's `connect` and `MQTTClient` with `link` defaulting to `link` (a page's own option wins): what
 * test pages import as `iotpubsub` and `iotpubsub/shared`, so that every browser suite runs over both links.
 */
export function withDefaultLink(link: 'lean' | 'mqttjs', connect: Connect, Client: ClientClass): { connect: Connect; MQTTClient: ClientClass } {
  return {
    connect: (url, options = {}) => connect(url, { link, ...options }),
    MQTTClient: class extends (Client as new (options: MQTTClientOptions) => object) {
      constructor(options: MQTTClientOptions) {
        super({ link, ...options })
      }
    } as ClientClass,
  }
}
