import { DomainError } from '../errors.js';

/** A NURBS definition or argument that is invalid (bad knots, weights, degree or t). */
export class NurbsError extends DomainError {
  constructor(message: string) {
    super(message);
    this.name = 'NurbsError';
  }
}
