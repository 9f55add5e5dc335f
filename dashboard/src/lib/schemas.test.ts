import { describe, expect, it } from 'vitest';
import { inviteForm, orderForm, partyForm, signupForm, validate } from './schemas';

/* The messages are the services' own (auth, party and orders services), so a form says the same as the API would. */

describe('form validation, as the server validates', () => {
  it('sign up: username, email and password rules', () => {
    expect(validate(signupForm, { username: 'ab', email: 'x', password: 'short' }).errors).toEqual({
      username: 'must be 3..32 characters',
      email: 'must be an email address',
      password: 'must be 8..128 characters',
    });
    expect(validate(signupForm, { username: 'no spaces', email: 'a@b.co', password: 'long enough' }).errors).toEqual({
      username: 'may hold only letters, digits and _ . -',
    });
    expect(validate(signupForm, { username: ' Alice ', email: 'Alice@Example.COM', password: 'long enough' }).data).toEqual({
      username: 'alice',
      email: 'alice@example.com',
      password: 'long enough',
    });
  });

  it('customer or supplier: a name, and an email, phone and address only if well-formed', () => {
    expect(validate(partyForm, { name: '  ', email: 'nope', phone: 'call me', address: 'x'.repeat(201) }).errors).toEqual({
      name: 'must not be empty',
      email: 'must be an email address',
      phone: 'may hold only digits, spaces and + - ( ) . /',
      address: 'must be at most 200 characters',
    });
    expect(validate(partyForm, { name: 'Acme', email: '', phone: '+1 (555) 010-0100', address: ' 1 Main St, Springfield ' }).data).toEqual({
      name: 'Acme',
      email: '',
      phone: '+1 (555) 010-0100',
      address: '1 Main St, Springfield',
    });
  });

  it('order: both parties chosen and a total in cents', () => {
    expect(validate(orderForm, { customerId: '', supplierId: '', totalCents: '1.234' }).errors).toEqual({
      customerId: 'choose a customer',
      supplierId: 'choose a supplier',
      totalCents: 'must be an amount like 12.34',
    });
    const id = 'a'.repeat(24);
    expect(validate(orderForm, { customerId: id, supplierId: id, totalCents: '10000000000.01' }).errors).toEqual({
      totalCents: 'must be at most 10,000,000,000.00',
    });
    expect(validate(orderForm, { customerId: id, supplierId: id, totalCents: '123.45' }).data).toEqual({
      customerId: id,
      supplierId: id,
      totalCents: 12345,
    });
  });

  it('invitation: a role, an email and an expiry only when typed, the expiry in 1..720 hours', () => {
    expect(validate(inviteForm, { role: 'editor', email: ' ', expiresInHours: '' }).data).toEqual({
      role: 'editor',
      email: undefined,
      expiresInHours: undefined,
    });
    expect(validate(inviteForm, { role: 'admin', email: 'Ann@Example.com', expiresInHours: ' 24 ' }).data).toEqual({
      role: 'admin',
      email: 'ann@example.com',
      expiresInHours: 24,
    });
    expect(validate(inviteForm, { role: 'root' as never, email: 'nope', expiresInHours: '0' }).errors).toEqual({
      role: 'must be one of viewer, editor, admin',
      email: 'must be an email address',
      expiresInHours: 'must be 1..720',
    });
  });
});
