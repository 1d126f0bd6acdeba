import { connect, type IClientOptions, type MqttClient } from 'mqtt'

/**
 * A raw MQTT.js client (no SDK) that resolves once connected, or rejects with the connection error. It
 * never reconnects, so a refused login is one attempt.
 */
export function rawClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...options })
    const fail = (error: Error) => {
      client.end(true)
      reject(error)
    }
    client.once('connect', () => {
      client.off('error', fail)
      resolve(client)
    })
    client.once('error', fail)
    client.once('close', () => fail(new Error(`the connection to ${url} closed before CONNACK`)))
  })
}

/** The next message `client` receives on a topic matching `topic` (exact name), or a timeout error. */
export function nextMessage(client: MqttClient, topic: string, ms = 5_000): Promise<{ topic: string; payload: string; retain: boolean }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', onMessage)
      reject(new Error(`timed out after ${ms} ms waiting for a message on ${topic}`))
    }, ms)
    function onMessage(received: string, payload: Buffer, packet: { retain: boolean }): void {
      if (received !== topic) return
      clearTimeout(timer)
      client.off('message', onMessage)
      resolve({ topic: received, payload: payload.toString(), retain: packet.retain })
    }
    client.on('message', onMessage)
  })
}
