// A happy-dom document for the binding tests, installed on globalThis by hand instead of vitest's happy-dom
// environment: with `window` defined before MQTT.js loads, MQTT.js takes Node for a browser (its
// is-browser check runs once, at load) and will not open mqtt:// connections. So a test file imports the
// SDK's Node entry first (statically: MQTT.js loads with no window), then calls installDom(), then imports
// react-dom or vue (dynamically: they look for a document when they load).
import { Window } from 'happy-dom'

const GLOBALS = [
  'window',
  'document',
  'navigator',
  'Node',
  'Element',
  'HTMLElement',
  'HTMLIFrameElement',
  'Text',
  'Comment',
  'DocumentFragment',
  'Event',
  'CustomEvent',
  'MouseEvent',
  'KeyboardEvent',
  'FocusEvent',
  'InputEvent',
  'MutationObserver',
  'getComputedStyle',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'SVGElement',
] as const

export interface Dom {
  readonly window: Window
  readonly document: Window['document']
  /** Puts the globals back and closes the window. */
  dispose(): Promise<void>
}

export function installDom(): Dom {
  const window = new Window({ url: 'http://localhost/' })
  const saved = new Map<string, PropertyDescriptor | undefined>()
  for (const key of GLOBALS) {
    saved.set(key, Object.getOwnPropertyDescriptor(globalThis, key))
    const value = (window as unknown as Record<string, unknown>)[key]
    Object.defineProperty(globalThis, key, {
      value: typeof value === 'function' && /^[a-z]/.test(key) ? (value as (...args: unknown[]) => unknown).bind(window) : value,
      configurable: true,
      writable: true,
    })
  }
  return {
    window,
    document: window.document,
    async dispose() {
      for (const [key, descriptor] of saved) {
        if (descriptor) Object.defineProperty(globalThis, key, descriptor)
        else delete (globalThis as Record<string, unknown>)[key]
      }
      await window.happyDOM.close()
    },
  }
}
