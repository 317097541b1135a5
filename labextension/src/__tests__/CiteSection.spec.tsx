/**
 * The Cite section in a DOM: it copies exactly what the server wrote, saves DataCite JSON as a
 * file, points an incomplete rights statement at the declaration, and refetches after a change.
 */
import { Clipboard } from '@jupyterlab/apputils';
import * as React from 'react';

import { DataShareClient } from '../api';
import { CiteSection } from '../components/CiteSection';
import { button, click, IDom, mount, settle } from './dom';
import { citation } from './fixtures';

jest.mock('@jupyterlab/apputils', () => ({
  ...jest.requireActual('@jupyterlab/apputils'),
  Clipboard: { copyToSystem: jest.fn() }
}));

/** jsdom's Blob has no text(): read it the old way. */
const readText = (blob: Blob) =>
  new Promise<string>(resolve => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.readAsText(blob);
  });

let dom: IDom;
beforeEach(() => (dom = mount()));
afterEach(() => dom.unmount());

describe('the Cite section', () => {
  it('copies each entry as the server wrote it and saves DataCite JSON', async () => {
    const client = new DataShareClient();
    client.citation = jest.fn(async () => citation());
    const saved: { name: string; blob: Blob }[] = [];
    (URL as any).createObjectURL = (blob: Blob) => {
      saved.push({ name: '', blob });
      return 'blob:x';
    };
    (URL as any).revokeObjectURL = () => undefined;
    const clickAnchor = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved[saved.length - 1].name = this.download;
    });
    const complete = jest.fn();
    try {
      await dom.render(<CiteSection client={client} datasetId="ds-1a2b3c4d" revision="r1" onCompleteDeclaration={complete} />);
      await settle();
      expect(client.citation).toHaveBeenCalledWith('ds-1a2b3c4d');
      expect(dom.container.querySelector('[data-testid="datashare-cite-text"]')?.textContent).toBe(citation().text);

      await click(button(dom.container, 'Copy the data availability statement'));
      expect(Clipboard.copyToSystem).toHaveBeenLastCalledWith(citation().availability_statement);

      await click(button(dom.container, 'Save DataCite JSON'));
      expect(saved[0].name).toBe('ds-1a2b3c4d-datacite.json');
      expect(saved[0].blob.type).toBe('application/vnd.datacite.datacite+json');
      expect(JSON.parse(await readText(saved[0].blob))).toEqual(citation().datacite);

      // The incomplete rights statement says what is missing and leads to the declaration.
      const rights = dom.container.querySelector('[data-cite="rights"]')!;
      expect(rights.querySelector('.jp-DataShare-banner-warning')?.textContent).toContain(
        'Add the missing declarations and the principal investigator, first author.'
      );
      await click(button(rights, 'Complete the declaration'));
      expect(complete).toHaveBeenCalled();
    } finally {
      clickAnchor.mockRestore();
    }
  });

  it('fetches the citation again when the dataset changes', async () => {
    const client = new DataShareClient();
    client.citation = jest.fn(async () => citation());
    await dom.render(<CiteSection client={client} datasetId="ds-1" revision="r1" />);
    await dom.render(<CiteSection client={client} datasetId="ds-1" revision="r2" />);
    await settle();
    expect(client.citation).toHaveBeenCalledTimes(2);
  });
});
