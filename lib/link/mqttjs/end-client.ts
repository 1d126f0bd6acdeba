/** The parts of MqttClient the final close uses. */
interface Endable {
  readonly connected: boolean
  /** Set: MQTT.js arms no reconnect when its stream closes. */
  reconnectSuppressed?: boolean
  readonly stream: { destroy(): void } | undefined
  readonly outgoing: Record<number, unknown>
  removeOutgoingMessage(messageId: number): unknown
  end(force: boolean, options: object, callback: () => void): unknown
}

/**
 * The MQTT.js link's final close: DISCONNECT (unless `force`), whatever is unacknowledged given up first so
 * that it goes out now; resolves when MQTT.js has closed, or after `timeout` ms with the socket destroyed (a
 * broker that never closes its side, frozen or half-open). `finished` runs once, before it resolves.
 *
 * @example
 * ```ts
 * await endClient(client, { force: false, timeout: 1_000 }, () => intervals.dispose())
 * ```
 */
export function endClient(client: unknown, { force, timeout }: { force: boolean; timeout: number }, finished: () => void): Promise<void> {
  const mqttClient = client as Endable | undefined
  if (!mqttClient?.stream) {
    finished()
    return Promise.resolve() // never connected: MQTT.js's end() needs a stream
  }
  // MQTT.js arms its reconnect interval (a timer that keeps Node running) on every close of its stream unless told
  // not to: an end() before the CONNACK lets it, as its end() clears `disconnecting` before the socket closes.
  mqttClient.reconnectSuppressed = true
  return new Promise<void>((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    let ended = false
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      if (ended) return
      ended = true
      finished()
      resolve()
    }
    if (!force && mqttClient.connected && timeout > 0) {
      timer = setTimeout(() => {
        mqttClient.stream?.destroy()
        done()
      }, timeout)
      for (const id of Object.keys(mqttClient.outgoing)) mqttClient.removeOutgoingMessage(Number(id))
      mqttClient.end(false, {}, done)
    } else {
      mqttClient.end(true, {}, done)
    }
  })
}
