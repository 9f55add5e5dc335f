import { MongoNetworkError, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { ServerError, Status, toPublicError } from './errors.js';

describe('toPublicError', () => {
  it('turns a database that is going away into UNAVAILABLE, and driver text never leaves', () => {
    const shuttingDown = new MongoServerError({
      ok: 0,
      code: 1,
      codeName: 'InternalError',
      errmsg: '[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:134 fsql.(*DB).InTransaction] context canceled',
    });
    for (const err of [shuttingDown, new MongoNetworkError('connection 3 to 127.0.0.1:27018 closed')]) {
      expect(toPublicError(err)).toMatchObject({ code: Status.UNAVAILABLE, details: 'database unavailable' });
    }
  });

  it('turns a bare socket error into UNAVAILABLE', () => {
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(toPublicError(epipe)).toMatchObject({ code: Status.UNAVAILABLE, details: 'a backing service is unreachable; try again' });
    expect(toPublicError(Object.assign(new Error('odd'), { code: 'ERR_SOMETHING' }))).toMatchObject({ code: Status.INTERNAL });
  });

  it('keeps other server errors INTERNAL, with a generic message', () => {
    const other = new MongoServerError({ ok: 0, code: 1, codeName: 'InternalError', errmsg: 'something broke in msg_update.go' });
    const error = toPublicError(other);
    expect(error.code).toBe(Status.INTERNAL);
    expect(error.details).not.toContain('msg_update');
    expect(toPublicError(new ServerError(Status.NOT_FOUND, 'no customer x'))).toMatchObject({ code: Status.NOT_FOUND });
  });
});
