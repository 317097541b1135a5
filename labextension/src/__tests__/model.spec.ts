/**
 * The panel's model: a colleague who sits on a committee but may not act as the owner (the
 * server answers 403 to the datasets list) still gets the requests they decide, not an error.
 */
import { DataShareClient, DataShareError } from '../api';
import { DataShareModel } from '../model';
import { request } from './fixtures';

it('shows a committee member the inbox when the datasets are not theirs', async () => {
  const client = new DataShareClient();
  jest.spyOn(client, 'datasetsPage').mockRejectedValue(
    new DataShareError("only the owner of this server's datasets may do that", 403, 'Forbidden')
  );
  jest.spyOn(client, 'requestsPage').mockResolvedValue({ items: [request({ you_may_decide: true })], next: null });
  const model = new DataShareModel(client);
  await model.refresh();
  expect(model.error).toBeNull();
  expect(model.isOwner).toBe(false);
  expect(model.datasets).toEqual([]);
  expect(model.requests.map(r => r.id)).toEqual(['req-1']);
});

it('still reports other failures of the datasets list', async () => {
  const client = new DataShareClient();
  jest.spyOn(client, 'datasetsPage').mockRejectedValue(new DataShareError('the server is down', 503));
  jest.spyOn(client, 'requestsPage').mockResolvedValue({ items: [], next: null });
  const model = new DataShareModel(client);
  await model.refresh();
  expect(model.error).toBe('the server is down');
  expect(model.isOwner).toBe(true);
});
