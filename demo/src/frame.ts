/**
 * Batches DOM work per animation frame: messages update models immediately (cheap), and each view asks for
 * a redraw with `request(key, render)`; however many messages arrive, each view renders at most once per
 * frame. The frame source is injectable for tests.
 */
export class FrameScheduler {
  private pending = new Map<string, () => void>()
  private scheduled = false
  /** Frames rendered so far. */
  frames = 0

  constructor(
    private readonly requestFrame: (callback: () => void) => unknown = (cb) => requestAnimationFrame(() => cb()),
    private readonly onError: (error: unknown) => void = (error) => setTimeout(() => { throw error }),
  ) {}

  /** Runs `render` in the next frame; a second request for the same key in the same frame replaces it. */
  request(key: string, render: () => void): void {
    this.pending.set(key, render)
    if (!this.scheduled) {
      this.scheduled = true
      this.requestFrame(() => this.flush())
    }
  }

  /** Renders everything pending now (the frame callback; also handy in tests). */
  flush(): void {
    this.scheduled = false
    const batch = this.pending
    this.pending = new Map()
    this.frames++
    for (const render of batch.values()) {
      try {
        render()
      } catch (error) {
        this.onError(error)
      }
    }
  }
}
