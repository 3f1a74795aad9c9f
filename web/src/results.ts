/**
 * A finished run on the page: download links for every output (label NIfTI, names JSON, statistics JSON,
 * DICOM-SEG for a DICOM input), and the class list (colour, name, mL, show/hide).
 */
import { cssColour } from './colours.js';
import type { ClassVolume, OutputFile } from './protocol.js';

const urls: string[] = [];

/** Links to the outputs, replacing those of the run before; none when `outputs` is empty. */
export function showDownloads(box: HTMLElement, outputs: readonly OutputFile[]): void {
  for (const u of urls.splice(0)) URL.revokeObjectURL(u);
  box.replaceChildren();
  for (const o of outputs) {
    const url = URL.createObjectURL(new Blob([o.data as Uint8Array<ArrayBuffer>]));
    urls.push(url);
    const a = document.createElement('a');
    a.href = url;
    a.download = o.name;
    a.textContent = `${o.name} (${(o.data.length / 1024).toFixed(0)} KiB)`;
    box.append(a);
  }
}

/** The class list: one row per class present, its checkbox showing or hiding it in the viewer. */
export function showClasses(
  body: HTMLElement,
  classes: readonly ClassVolume[],
  setVisible: (label: number, visible: boolean) => void,
): void {
  body.replaceChildren(
    ...classes.map((c) => {
      const row = document.createElement('tr');
      row.dataset['label'] = String(c.label);
      const show = document.createElement('input');
      show.type = 'checkbox';
      show.checked = true;
      show.title = `show ${c.name}`;
      show.addEventListener('change', () => {
        setVisible(c.label, show.checked);
      });
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = cssColour(c.label);
      const cells = [
        [show, swatch],
        [document.createTextNode(c.name)],
        [document.createTextNode(c.volumeMl.toFixed(1))],
      ];
      row.append(
        ...cells.map((nodes) => {
          const td = document.createElement('td');
          td.append(...nodes);
          return td;
        }),
      );
      row.querySelector('td:nth-child(2)')?.classList.add('class-name');
      return row;
    }),
  );
}
