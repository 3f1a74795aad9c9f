/**
 * The NiiVue view of a result: the image with the label map over it in the classes' colours, multiplanar
 * with a 3D render, classes shown or hidden one by one, and the name of the structure under the cursor.
 */
import { Niivue, SHOW_RENDER, type NVImage } from '@niivue/niivue';
import { labelColour } from './colours.js';

export interface ViewerFiles {
  readonly image: { readonly name: string; readonly data: Uint8Array };
  readonly labels: { readonly name: string; readonly data: Uint8Array };
  readonly labelNames: readonly string[];
}

export type ViewLayout = 'multiplanar' | 'axial' | 'render';

export class Viewer {
  private readonly nv: Niivue;
  private names: readonly string[] = [];
  private hidden = new Set<number>();
  private opacity = 0.7;
  private urls: string[] = [];
  /** Called with the structure under the cursor ('' outside every class). */
  onHover: (name: string) => void = () => undefined;

  private constructor(nv: Niivue) {
    this.nv = nv;
    nv.onLocationChange = (location: unknown) => {
      const values = (location as { values?: { value: number }[] }).values ?? [];
      const label = Math.round(values[1]?.value ?? 0);
      this.onHover(label > 0 ? (this.names[label] ?? `label_${label}`) : '');
    };
  }

  static async create(canvas: HTMLCanvasElement): Promise<Viewer> {
    const nv = new Niivue({
      backColor: [0.1, 0.1, 0.12, 1],
      show3Dcrosshair: true,
      dragAndDropEnabled: false,
      multiplanarShowRender: SHOW_RENDER.ALWAYS,
      loadingText: '',
    });
    await nv.attachToCanvas(canvas);
    return new Viewer(nv);
  }

  /** Shows a result (replacing the one before). */
  async show(files: ViewerFiles): Promise<void> {
    for (const u of this.urls) URL.revokeObjectURL(u);
    const url = (d: Uint8Array): string => URL.createObjectURL(new Blob([d as Uint8Array<ArrayBuffer>]));
    this.urls = [url(files.image.data), url(files.labels.data)];
    this.names = files.labelNames;
    this.hidden = new Set();
    await this.nv.loadVolumes([
      { url: this.urls[0] as string, name: files.image.name, colormap: 'gray' },
      { url: this.urls[1] as string, name: files.labels.name, opacity: this.opacity },
    ]);
    this.applyColours();
    this.layout('multiplanar');
  }

  private labelVolume(): NVImage | undefined {
    return this.nv.volumes[1];
  }

  /** The label colormap: each class its colour, hidden ones (and background) transparent. */
  private applyColours(): void {
    const vol = this.labelVolume();
    if (vol === undefined) return;
    const n = Math.max(this.names.length, 2);
    const cm = {
      R: [] as number[],
      G: [] as number[],
      B: [] as number[],
      A: [] as number[],
      I: [] as number[],
      labels: [...this.names],
    };
    for (let i = 0; i < n; i++) {
      const [r, g, b] = i === 0 ? [0, 0, 0] : labelColour(i);
      cm.R.push(r);
      cm.G.push(g);
      cm.B.push(b);
      cm.A.push(i === 0 || this.hidden.has(i) ? 0 : 255);
      cm.I.push(i);
    }
    vol.setColormapLabel(cm);
    this.nv.updateGLVolume();
  }

  setVisible(label: number, visible: boolean): void {
    if (visible) this.hidden.delete(label);
    else this.hidden.add(label);
    this.applyColours();
  }

  /** The overlay's opacity, 0…1. */
  setOpacity(opacity: number): void {
    this.opacity = opacity;
    if (this.labelVolume() !== undefined) this.nv.setOpacity(1, opacity);
  }

  layout(view: ViewLayout): void {
    const nv = this.nv;
    nv.setSliceType(
      view === 'render' ? nv.sliceTypeRender : view === 'axial' ? nv.sliceTypeAxial : nv.sliceTypeMultiplanar,
    );
  }
}
