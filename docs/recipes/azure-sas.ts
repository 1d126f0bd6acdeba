/**
 * An Azure shared access signature (SAS) token, as Azure IoT Hub takes one for MQTT (the password, with the
 * user name `<hub>.azure-devices.net/<deviceId>/?api-version=2021-04-12`): a recipe to copy into an app, not
 * part of the SDK. Web Crypto only, so it runs in browsers and in Node 20+; no network call. Checked by
 * test/integration/signed-url-recipes.test.ts against the token Microsoft's own Azure IoT CLI extension tests
 * for (github.com/Azure/azure-iot-cli-extension, TestSasTokenAuth.test_generate_sas_token).
 *
 * @example
 * ```ts
 * import { connect } from 'iotpubsub'
 * import { sasToken } from './azure-sas.js'
 * const hub = 'my-hub.azure-devices.net'
 * const client = connect(`wss://${hub}/$iothub/websocket`, {
 *   clientId: 'sensor-1',
 *   protocolVersion: 4,
 *   credentials: async () => ({
 *     username: `${hub}/sensor-1/?api-version=2021-04-12`,
 *     password: await sasToken({ resource: `${hub}/devices/sensor-1`, key: deviceKey, expiresAt: Date.now() / 1000 + 3600 }),
 *   }),
 * })
 * ```
 */

const encoder = new TextEncoder()

/**
 * `SharedAccessSignature sr=…&sig=…&se=…[&skn=…]`: HMAC-SHA256, with the base64-decoded `key`, of the
 * URI-encoded resource and the expiry (seconds since 1970) on two lines.
 */
export async function sasToken(options: { resource: string; key: string; expiresAt: number; policyName?: string }): Promise<string> {
  const resource = encodeURIComponent(options.resource)
  const expiry = Math.floor(options.expiresAt)
  const key = Uint8Array.from(atob(options.key), (c) => c.charCodeAt(0))
  const imported = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const signed = new Uint8Array(await crypto.subtle.sign('HMAC', imported, encoder.encode(`${resource}\n${expiry}`)))
  const sig = encodeURIComponent(btoa(String.fromCharCode(...signed)))
  return `SharedAccessSignature sr=${resource}&sig=${sig}&se=${expiry}${options.policyName ? `&skn=${encodeURIComponent(options.policyName)}` : ''}`
}
