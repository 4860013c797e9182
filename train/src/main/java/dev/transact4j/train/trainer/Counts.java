package dev.transact4j.train.trainer;

/** Counts with their unit for log lines: "1 step", "2 steps". */
public final class Counts {

    private Counts() {
    }

    /** Returns {@code n} and its unit, the singular for 1 and the plural otherwise. */
    public static String of(long n, String singular, String plural) {
        return n + " " + (n == 1 ? singular : plural);
    }

    /** Returns {@code n} and its unit, whose plural adds an s. */
    public static String of(long n, String singular) {
        return of(n, singular, singular + "s");
    }
}
