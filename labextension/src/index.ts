/**
 * jupyter-datashare's JupyterLab extension: share a file or folder as a dataset from the file
 * browser, manage datasets, review links, requests and grants in the "Data sharing" sidebar, and
 * read and verify the audit log.
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  showDialog,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import { Contents } from '@jupyterlab/services';
import {
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { historyIcon } from '@jupyterlab/ui-components';

import { DataShareClient } from './api';
import type { IScanResult } from './components/ShareForm';
import { checkpointNote } from './components/Checkpoint';
import { describeProgress, publishInBackground } from './jobs';
import { saveBlob } from './components/common';
import { dateInDays, formatBytes, plural } from './format';
import {
  DataShareModel,
  DEFAULT_PREFERENCES,
  IPreferences,
  SectionName
} from './model';
import { prefillCreator } from './creator';
import { initialState } from './shareForm';
import type { Level } from './types';
import {
  AuditWidget,
  dataShareIcon,
  DataSharingPanel,
  ShareFormWidget
} from './widgets';

export const PLUGIN_ID = 'jupyter-datashare:plugin';

export namespace CommandIDs {
  export const share = 'datashare:share';
  export const openPanel = 'datashare:open-panel';
  export const openDataset = 'datashare:open-dataset';
  export const createLink = 'datashare:create-link';
  export const revokeLink = 'datashare:revoke-link';
  export const publishVersion = 'datashare:publish-version';
  export const requests = 'datashare:review-requests';
  export const grants = 'datashare:manage-grants';
  export const withdraw = 'datashare:withdraw';
  export const datasetEvents = 'datashare:dataset-events';
  export const audit = 'datashare:open-audit';
  export const verify = 'datashare:verify-audit';
  export const exportCsv = 'datashare:export-audit-csv';
  export const exportJsonl = 'datashare:export-audit-jsonl';
  export const refresh = 'datashare:refresh';
  export const editDetails = 'datashare:edit-dataset';
  export const editAccess = 'datashare:change-access';
  export const cite = 'datashare:cite-dataset';
  export const copyCitation = 'datashare:copy-citation';
  export const files = 'datashare:show-files';
  export const signCheckpoint = 'datashare:sign-checkpoint';
}

const CATEGORY = 'Data Sharing';

/** Count the files and bytes under a path through the contents API (bounded, for large trees). */
async function scanPath(
  contents: Contents.IManager,
  path: string,
  budget = { dirs: 200, until: Date.now() + 4000 }
): Promise<IScanResult> {
  const out: IScanResult = { files: 0, bytes: 0, partial: false };
  const queue = [path];
  while (queue.length) {
    if (budget.dirs-- <= 0 || Date.now() > budget.until) {
      out.partial = true;
      break;
    }
    const model = await contents.get(queue.shift()!, { content: true });
    if (model.type !== 'directory') {
      out.files++;
      out.bytes += model.size ?? 0;
      continue;
    }
    for (const child of (model.content ?? []) as Contents.IModel[]) {
      if (child.type === 'directory') {
        queue.push(child.path);
      } else {
        out.files++;
        out.bytes += child.size ?? 0;
      }
    }
  }
  return out;
}

function readPreferences(settings: ISettingRegistry.ISettings): IPreferences {
  const c = settings.composite as Partial<IPreferences>;
  return { ...DEFAULT_PREFERENCES, ...c };
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Share datasets under controlled access: review links, committees, audit log.',
  autoStart: true,
  requires: [IFileBrowserFactory],
  optional: [
    ICommandPalette,
    ISettingRegistry,
    ILayoutRestorer,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    factory: IFileBrowserFactory,
    palette: ICommandPalette | null,
    settingRegistry: ISettingRegistry | null,
    restorer: ILayoutRestorer | null,
    defaultBrowser: IDefaultFileBrowser | null
  ) => {
    const { commands, shell, serviceManager } = app;
    const client = new DataShareClient(serverSettingsOf(app));
    const model = new DataShareModel(client);

    // -- the audit log (main area) -------------------------------------------------------------
    const auditTracker = new WidgetTracker<MainAreaWidget<AuditWidget>>({
      namespace: 'datashare-audit'
    });
    let auditWidget: MainAreaWidget<AuditWidget> | null = null;
    const openAudit = (dataset?: string): MainAreaWidget<AuditWidget> => {
      if (!auditWidget || auditWidget.isDisposed) {
        const content = new AuditWidget(client, model);
        auditWidget = new MainAreaWidget({ content });
        auditWidget.id = 'jp-datashare-audit';
        auditWidget.title.label = 'Audit log';
        auditWidget.title.icon = historyIcon;
        auditWidget.title.closable = true;
        void auditTracker.add(auditWidget);
      }
      if (!auditWidget.isAttached) {
        shell.add(auditWidget, 'main');
      }
      if (dataset !== undefined) {
        auditWidget.content.setFilters({ dataset });
      }
      shell.activateById(auditWidget.id);
      return auditWidget;
    };

    // -- the sidebar -----------------------------------------------------------------------
    const panel = new DataSharingPanel(model, id => openAudit(id));
    shell.add(panel, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(panel, 'datashare-panel');
      void restorer.restore(auditTracker, {
        command: CommandIDs.audit,
        name: () => 'audit'
      });
    }
    const showPanel = (id: string | null = null, section: SectionName | null = null) => {
      model.open(id, section);
      shell.activateById(panel.id);
    };

    // -- preferences ------------------------------------------------------------------------
    let refreshTimer = 0;
    const applyPreferences = (prefs: IPreferences) => {
      model.preferences = prefs;
      window.clearInterval(refreshTimer);
      if (prefs.refreshSeconds > 0) {
        refreshTimer = window.setInterval(() => {
          if (panel.isVisible) {
            void model.refresh();
          }
        }, prefs.refreshSeconds * 1000);
      }
    };
    applyPreferences(DEFAULT_PREFERENCES);
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          applyPreferences(readPreferences(settings));
          settings.changed.connect(() => applyPreferences(readPreferences(settings)));
        })
        .catch(reason => console.warn('jupyter-datashare: settings not loaded', reason));
    }

    // -- helpers -----------------------------------------------------------------------------
    /** The first creator: the configured default, else the identity if it names a person. */
    const firstCreator = async () => {
      let identity = null;
      try {
        await serviceManager.user.ready;
        identity = serviceManager.user.identity;
      } catch {
        // No identity: the configured default or a blank row with its hint.
      }
      return prefillCreator(identity, model.preferences.defaultCreator);
    };

    /** The dataset a command acts on: its argument, the one open in the panel, or a choice. */
    const pickDataset = async (args: Record<string, unknown>): Promise<string | null> => {
      if (typeof args.id === 'string' && args.id) {
        return args.id;
      }
      if (model.focus.id) {
        return model.focus.id;
      }
      // Always fresh: datasets shared from a notebook or the CLI since the last refresh count too.
      await model.refresh();
      if (!model.datasets.length) {
        await showErrorMessage(
          'No datasets',
          'You have not shared any dataset yet: right-click a file or folder and choose "Share as dataset…".'
        );
        return null;
      }
      const labels = model.datasets.map(d => `${d.title} (${d.id})`);
      const choice = await InputDialog.getItem({
        title: 'Choose a dataset',
        items: labels,
        current: 0
      });
      if (!choice.button.accept || choice.value === null) {
        return null;
      }
      return model.datasets[labels.indexOf(choice.value)]?.id ?? null;
    };

    const selectedPath = (): { path: string; isDir: boolean } | null => {
      const browser = factory.tracker.currentWidget ?? defaultBrowser;
      if (!browser) {
        return null;
      }
      const item = browser.selectedItems().next();
      if (!item.done && item.value) {
        return {
          path: serviceManager.contents.localPath(item.value.path),
          isDir: item.value.type === 'directory'
        };
      }
      return { path: serviceManager.contents.localPath(browser.model.path), isDir: true };
    };

    // -- commands ----------------------------------------------------------------------------
    commands.addCommand(CommandIDs.share, {
      label: 'Share as dataset…',
      caption: 'Freeze the selected file or folder as a dataset and choose who may read it',
      icon: dataShareIcon,
      execute: async args => {
        const target =
          typeof args.path === 'string'
            ? { path: args.path, isDir: !!args.isDir }
            : selectedPath();
        if (!target) {
          await showErrorMessage('Nothing to share', 'Select a file or folder in the file browser first.');
          return;
        }
        const prefs = model.preferences;
        const content = new ShareFormWidget({
          client,
          initial: initialState({
            path: target.path,
            isDir: target.isDir,
            creator: await firstCreator(),
            licence: prefs.defaultLicense,
            level: prefs.defaultLevel as Level,
            embargoUntil: dateInDays(180)
          }),
          scan: () => scanPath(serviceManager.contents, target.path),
          onShared: result => {
            void model.invalidate();
            Notification.success(
              `Shared "${result.title}" as ${result.id}: ${plural(result.file_count, 'file')}, ${formatBytes(result.total_size)}.`,
              {
                autoClose: 5000,
                actions: [
                  { label: 'Open', callback: () => showPanel(result.id) }
                ]
              }
            );
          },
          onOpenDataset: id => showPanel(id)
        });
        const widget = new MainAreaWidget({ content });
        const name = target.path.split('/').filter(Boolean).pop() || 'server root';
        widget.title.label = `Share: ${name}`;
        widget.title.icon = dataShareIcon;
        widget.title.closable = true;
        shell.add(widget, 'main');
        shell.activateById(widget.id);
      }
    });

    commands.addCommand(CommandIDs.openPanel, {
      label: 'Show Data Sharing Panel',
      icon: dataShareIcon,
      execute: () => showPanel(null)
    });

    commands.addCommand(CommandIDs.openDataset, {
      label: 'Open Dataset…',
      execute: async args => {
        const id = await pickDataset({ id: args.id });
        if (id) {
          showPanel(id, (args.section as SectionName) ?? null);
        }
      }
    });

    const sectionCommand = (
      id: string,
      label: string,
      section: SectionName,
      caption: string
    ) =>
      commands.addCommand(id, {
        label,
        caption,
        execute: async args => {
          const dataset = await pickDataset(args);
          if (dataset) {
            showPanel(dataset, section);
          }
        }
      });
    sectionCommand(
      CommandIDs.createLink,
      'Create Review Link…',
      'links',
      'Make a private review link to a dataset for editors and reviewers'
    );
    sectionCommand(
      CommandIDs.grants,
      'Manage Access Grants…',
      'grants',
      'See and revoke the grants of a restricted dataset'
    );
    sectionCommand(
      CommandIDs.withdraw,
      'Withdraw Dataset…',
      'withdraw',
      'Withdraw a dataset (with a reason and a confirmation)'
    );
    sectionCommand(
      CommandIDs.editDetails,
      'Edit Dataset Details…',
      'edit',
      'Change the title, description, creators, licence or rights declaration of a dataset'
    );
    sectionCommand(
      CommandIDs.editAccess,
      'Change Dataset Access…',
      'access',
      'Change the access level, embargo or committee of a dataset'
    );
    sectionCommand(
      CommandIDs.cite,
      'Cite Dataset…',
      'cite',
      'The citation (text, BibTeX, DataCite) and the data availability and rights statements'
    );
    sectionCommand(
      CommandIDs.files,
      'Show Dataset Files and Previews…',
      'files',
      "A dataset's files, with the previews of its tables"
    );
    sectionCommand(
      CommandIDs.datasetEvents,
      "Show a Dataset's Audit Events…",
      'events',
      'The audit events of one dataset'
    );

    commands.addCommand(CommandIDs.requests, {
      label: 'Review Access Requests',
      caption: 'Approve or deny the access requests you decide as a committee member',
      execute: () => showPanel(null, 'requests')
    });

    commands.addCommand(CommandIDs.revokeLink, {
      label: 'Revoke Review Link…',
      execute: async args => {
        const dataset = await pickDataset({ id: args.dataset });
        if (!dataset) {
          return;
        }
        try {
          const links = (await client.listLinks(dataset)).filter(l => l.state === 'active');
          if (!links.length) {
            await showErrorMessage('No active review links', `Dataset ${dataset} has no active review link.`);
            return;
          }
          const labels = links.map(l => `${l.label || '(no label)'} (${l.id})`);
          const choice = await InputDialog.getItem({
            title: 'Revoke which review link?',
            items: labels,
            current: 0
          });
          if (!choice.button.accept || choice.value === null) {
            return;
          }
          const link = links[labels.indexOf(choice.value)];
          const ok = await showDialog({
            title: 'Revoke this review link?',
            body: `"${link.label || link.id}" stops working at once; whoever holds it gets "not found".`,
            buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Revoke' })]
          });
          if (ok.button.accept) {
            await client.revokeLink(link.id);
            Notification.success(`Review link "${link.label || link.id}" revoked.`, { autoClose: 4000 });
            await model.invalidate();
          }
        } catch (e) {
          await showErrorMessage('Could not revoke the link', (e as Error).message);
        }
      }
    });

    commands.addCommand(CommandIDs.publishVersion, {
      label: 'Publish New Dataset Version…',
      caption: 'Freeze the current files of a dataset as its next version',
      execute: async args => {
        const dataset = await pickDataset(args);
        if (!dataset) {
          return;
        }
        const summary = model.datasets.find(d => d.id === dataset);
        const ok = await showDialog({
          title: 'Publish a new version?',
          body: `The current files of "${summary?.title ?? dataset}" will be frozen as version ${
            (summary?.version ?? 0) + 1
          }.`,
          buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish' })]
        });
        if (!ok.button.accept) {
          return;
        }
        const id = Notification.emit(`Publishing a new version of ${dataset}…`, 'in-progress', {
          autoClose: false
        });
        try {
          const out = await publishInBackground(client, dataset, {
            onProgress: job =>
              Notification.update({
                id,
                message: `Publishing a new version of ${dataset}: ${describeProgress(job)}…`,
                type: 'in-progress',
                autoClose: false
              })
          });
          Notification.update({
            id,
            message: `Version ${out.version} of "${out.title}" published: ${plural(out.file_count, 'file')}, ${formatBytes(out.total_size)}.`,
            type: 'success',
            autoClose: 5000
          });
          await model.invalidate();
        } catch (e) {
          Notification.update({ id, message: (e as Error).message, type: 'error', autoClose: false });
        }
      }
    });

    commands.addCommand(CommandIDs.copyCitation, {
      label: 'Copy Dataset Citation',
      caption: 'Copy the plain-text citation of a dataset to the clipboard',
      execute: async args => {
        const dataset = await pickDataset(args);
        if (!dataset) {
          return;
        }
        try {
          const citation = await client.citation(dataset);
          Clipboard.copyToSystem(citation.text);
          Notification.success(`Copied: ${citation.text}`, { autoClose: 5000 });
        } catch (e) {
          await showErrorMessage('Could not get the citation', (e as Error).message);
        }
      }
    });

    commands.addCommand(CommandIDs.audit, {
      label: 'Open Audit Log',
      icon: historyIcon,
      execute: args => {
        openAudit(typeof args.dataset === 'string' ? args.dataset : undefined);
      }
    });

    commands.addCommand(CommandIDs.verify, {
      label: 'Verify Audit Log',
      caption: "Recompute the audit log's hash chain and check its signed checkpoints",
      execute: () => {
        openAudit().content.verify();
      }
    });

    commands.addCommand(CommandIDs.signCheckpoint, {
      label: 'Sign Audit Checkpoint',
      caption: "Sign the audit log's current state; keep the note where the server cannot change it",
      execute: async () => {
        try {
          const signed = await client.signCheckpoint();
          await showDialog({
            title: signed.checkpoint ? 'Signed checkpoint: keep it elsewhere' : 'Nothing to sign yet',
            body: signed.checkpoint ? checkpointNote(signed) : 'The audit log is empty.',
            buttons: [Dialog.okButton()]
          });
        } catch (e) {
          await showErrorMessage('Could not sign a checkpoint', (e as Error).message);
        }
      }
    });

    const exportCommand = (id: string, format: 'csv' | 'jsonl', label: string) =>
      commands.addCommand(id, {
        label,
        execute: async () => {
          try {
            saveBlob(await client.exportAudit(format), `datashare-audit.${format}`);
          } catch (e) {
            await showErrorMessage('Export failed', (e as Error).message);
          }
        }
      });
    exportCommand(CommandIDs.exportCsv, 'csv', 'Export Audit Log as CSV');
    exportCommand(CommandIDs.exportJsonl, 'jsonl', 'Export Audit Log as JSON Lines');

    commands.addCommand(CommandIDs.refresh, {
      label: 'Refresh Data Sharing Panel',
      execute: () => model.invalidate()
    });

    // -- menus and palette -----------------------------------------------------------------------
    app.contextMenu.addItem({
      command: CommandIDs.share,
      selector: '.jp-DirListing-item[data-isdir]',
      rank: 4
    });
    if (palette) {
      for (const command of [
        CommandIDs.share,
        CommandIDs.openPanel,
        CommandIDs.openDataset,
        CommandIDs.editDetails,
        CommandIDs.editAccess,
        CommandIDs.files,
        CommandIDs.cite,
        CommandIDs.copyCitation,
        CommandIDs.createLink,
        CommandIDs.revokeLink,
        CommandIDs.publishVersion,
        CommandIDs.requests,
        CommandIDs.grants,
        CommandIDs.withdraw,
        CommandIDs.datasetEvents,
        CommandIDs.audit,
        CommandIDs.verify,
        CommandIDs.signCheckpoint,
        CommandIDs.exportCsv,
        CommandIDs.exportJsonl,
        CommandIDs.refresh
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }
  }
};

/** The server settings JupyterLab itself uses (base URL, token, XSRF handling). */
function serverSettingsOf(app: JupyterFrontEnd) {
  return app.serviceManager.serverSettings;
}

export default plugin;
