// The databases a run uses beside the live one, named in one place.

/** `<db>__next`, `<db>__prev`, `<db>__prev2`, …: the names the run uses beside the live one. */
export const databaseNames = {
  next: (live: string) => `${live}__next`,
  previous: (live: string, generation = 1) =>
    generation === 1 ? `${live}__prev` : `${live}__prev${generation}`,
};
