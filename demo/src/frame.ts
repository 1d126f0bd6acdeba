interface Pending {
  render: () => void
  minInterval: number
}

/**
 * Batches DOM work per animation frame: messages update models immediately (cheap), and each view asks for
 * a redraw with `request(key, render)`; however many messages arrive, each view renders at most once per
 * frame, or once per `minInterval` ms for views that need not move at 60 fps (a feed scrolling at 2,000
 * messages per second is a blur either way; at 10 fps it costs a sixth). Clock and frame source are
 * injectable for tests.
 */
export class FrameScheduler {
  private pending = new Map<string, Pending>()
  private readonly lastRun = new Map<string, number>()
  private scheduled = false
  /** Frames rendered so far. */
  frames = 0

  constructor(
    private readonly requestFrame: (callback: () => void) => unknown = (cb) => requestAnimationFrame(() => cb()),
    private readonly onError: (error: unknown) => void = (error) => setTimeout(() => { throw error }),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Runs `render` in the next frame (or the first frame `minInterval` ms after its last run); a second
   * request for the same key before then replaces the first.
   */
  request(key: string, render: () => void, minInterval = 0): void {
    this.pending.set(key, { render, minInterval })
    this.schedule()
  }

  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    this.requestFrame(() => this.flush())
  }

  /** Renders everything that is due now (the frame callback; also handy in tests). */
  flush(): void {
    this.scheduled = false
    this.frames++
    const now = this.now()
    const batch = this.pending
    this.pending = new Map()
    for (const [key, entry] of batch) {
      const last = this.lastRun.get(key)
      if (entry.minInterval > 0 && last !== undefined && now - last < entry.minInterval) {
        this.pending.set(key, entry) // not due yet: keep it for a later frame
        continue
      }
      this.lastRun.set(key, now)
      try {
        entry.render()
      } catch (error) {
        this.onError(error)
      }
    }
    if (this.pending.size > 0) this.schedule()
  }
}
