/** Keys a process refuses without asking the store again, until their window ends. */
export class LocalBlocks {
  private readonly blocks = new Map<string, { until: number; refused: boolean }>();
  private static readonly SWEEP_AT = 10_000;

  /** `refused`: the store has already answered a refusal of this key (and the audit row is written). */
  block(key: string, msBeforeNext: number, refused = false): void {
    if (this.blocks.size >= LocalBlocks.SWEEP_AT) this.sweep();
    this.blocks.set(key, { until: Date.now() + msBeforeNext, refused });
  }

  check(key: string): { msBeforeNext: number; first: boolean } | null {
    const block = this.blocks.get(key);
    if (!block) return null;
    const msBeforeNext = block.until - Date.now();
    if (msBeforeNext <= 0) {
      this.blocks.delete(key);
      return null;
    }
    const first = !block.refused;
    block.refused = true;
    return { msBeforeNext, first };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, { until }] of this.blocks) if (until <= now) this.blocks.delete(key);
  }
}
