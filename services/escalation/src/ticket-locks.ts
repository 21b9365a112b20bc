// One piece of work at a time per ticket inside this process, so the consumers, the HTTP routes and
// the timer do not race each other on a ticket (other instances are kept apart by revisions and leases).
export class TicketLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(ticketId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(ticketId) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(ticketId, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(ticketId) === tail) this.tails.delete(ticketId);
    }
  }
}
