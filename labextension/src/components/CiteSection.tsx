/**
 * "Cite": how to cite the dataset (plain text, BibTeX, DataCite JSON) and the data availability
 * and data rights statements a manuscript needs, each with a copy button. Fetched when the
 * section opens, and again whenever the dataset changes (a new title changes the citation).
 */
import * as React from 'react';

import { DataShareClient } from '../api';
import type { Citation } from '../types';
import { Banner, BUTTON, Busy, CopyButton, saveBlob } from './common';
import { citeEntries } from './citation';

export function CiteSection(props: {
  client: DataShareClient;
  datasetId: string;
  /** Changes whenever the dataset does (its `updated_at` and version). */
  revision: string;
  onCompleteDeclaration?: () => void;
}): JSX.Element {
  const { client, datasetId } = props;
  const [citation, setCitation] = React.useState<Citation | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const uid = React.useId().replace(/:/g, '');

  React.useEffect(() => {
    let live = true;
    client
      .citation(datasetId)
      .then(c => {
        if (live) {
          setCitation(c);
          setError(null);
        }
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [client, datasetId, props.revision]);

  if (!citation) {
    return error ? <Banner kind="error">{error}</Banner> : <Busy label="Loading the citation…" />;
  }
  return (
    <div className="jp-DataShare-cite">
      {error ? <Banner kind="error">{error}</Banner> : null}
      {citeEntries(citation, datasetId).map(entry => {
        const headingId = `${uid}-cite-${entry.key}`;
        return (
          <section key={entry.key} className="jp-DataShare-citeEntry" aria-labelledby={headingId}
            data-cite={entry.key}>
            <div className="jp-DataShare-citeHeader">
              <h3 id={headingId} className="jp-DataShare-citeTitle">
                {entry.label}
              </h3>
              <CopyButton text={entry.text} label={`Copy the ${entry.label.toLowerCase()}`} showText />
            </div>
            <div className="jp-DataShare-hint">{entry.hint}</div>
            {entry.code ? (
              <pre className="jp-DataShare-citeCode" tabIndex={0} aria-label={entry.label}>
                {entry.text}
              </pre>
            ) : (
              <p className="jp-DataShare-citeText" data-testid={`datashare-cite-${entry.key}`}>
                {entry.text}
              </p>
            )}
            {entry.incomplete ? (
              <Banner kind="warning">
                {entry.incomplete}{' '}
                {props.onCompleteDeclaration ? (
                  <button type="button" className="jp-DataShare-linkButton" onClick={props.onCompleteDeclaration}>
                    Complete the declaration
                  </button>
                ) : null}
              </Banner>
            ) : null}
            {entry.download ? (
              <button
                type="button"
                className={BUTTON.plain + ' jp-DataShare-small'}
                onClick={() =>
                  saveBlob(new Blob([entry.text], { type: entry.download!.type }), entry.download!.filename)
                }
              >
                {entry.download.label}
              </button>
            ) : null}
          </section>
        );
      })}
    </div>
  );
}
