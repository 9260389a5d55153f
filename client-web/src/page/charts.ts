/**
 * The page's live charts (uPlot): one x value per stats refresh (seconds since Connect), one line
 * per series, the last `maxPoints` points kept. A series without a value at a point gets null, and
 * uPlot leaves a gap (or, with spanGaps, joins the points around it).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  stroke: string;
  /** Draw points only where there is a value and join across gaps (a sparse series). */
  sparse?: boolean;
}

const HEIGHT = 190;

export class LiveChart {
  readonly plot: uPlot;
  readonly #columns: (number | null)[][];
  readonly #el: HTMLElement;

  constructor(
    el: HTMLElement,
    yLabel: string,
    series: SeriesSpec[],
    format: (value: number) => string,
    /** The y axis goes at least this high, so that an empty or flat chart has readable ticks. */
    yFloor: number,
    readonly maxPoints = 120,
  ) {
    this.#el = el;
    this.#columns = [[], ...series.map(() => [])];
    // With the cursor away from the chart, the legend shows each series' latest value.
    const shown = (v: number | null, si: number, idx: number | null, fmt: (n: number) => string) => {
      const value = idx === null ? this.#latest(si) : v;
      return value === null ? '—' : fmt(value);
    };
    const options: uPlot.Options = {
      width: LiveChart.#widthOf(el),
      height: HEIGHT,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(yFloor, max * 1.1)] } },
      axes: [
        { label: 'seconds since Connect', labelSize: 20, size: 36 },
        { label: yLabel, labelSize: 20, size: 72, values: (_u, splits) => splits.map(format) },
      ],
      series: [
        { label: 'time', value: (_u, v, si, idx) => shown(v, si, idx, (t) => `${t.toFixed(0)} s`) },
        ...series.map((s): uPlot.Series => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          spanGaps: s.sparse === true,
          points: { show: s.sparse === true, size: 5, fill: s.stroke },
          value: (_u, v, si, idx) => shown(v, si, idx, format),
        })),
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    this.plot = new uPlot(options, this.#columns as uPlot.AlignedData, el);
    el.dataset.points = '0';
    // The charts follow their section's width (the page is fluid up to its max width).
    new ResizeObserver(() => {
      const width = LiveChart.#widthOf(el);
      if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
    }).observe(el);
  }

  /** The last non-null value of column `i`. */
  #latest(i: number): number | null {
    const column = this.#columns[i] ?? [];
    for (let j = column.length - 1; j >= 0; j--) if (column[j] !== null) return column[j] ?? null;
    return null;
  }

  static #widthOf(el: HTMLElement): number {
    return Math.max(240, Math.floor(el.clientWidth));
  }

  /** Adds one point (x and one value per series), dropping the oldest beyond maxPoints. */
  push(x: number, values: (number | null)[]): void {
    this.#columns[0]!.push(x);
    this.#columns.slice(1).forEach((column, i) => column.push(values[i] ?? null));
    if (this.#columns[0]!.length > this.maxPoints) for (const column of this.#columns) column.shift();
    this.plot.setData(this.#columns as uPlot.AlignedData);
    this.#el.dataset.points = String(this.#columns[0]!.length);
  }

  clear(): void {
    for (const column of this.#columns) column.length = 0;
    this.plot.setData(this.#columns as uPlot.AlignedData);
    this.#el.dataset.points = '0';
  }
}

const UNITS = ['B/s', 'KB/s', 'MB/s', 'GB/s'];

/** 1234 → "1.2 KB/s" (decimal units, as network rates are usually given). */
export function formatRate(bytesPerSecond: number): string {
  let value = bytesPerSecond;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

export function formatMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;
}
