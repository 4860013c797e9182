package dev.transact4j.bench;

import jdk.incubator.vector.FloatVector;

/** Prints the lane count of the preferred float species, which the comparison harness needs. */
public final class VectorInfo {

    private VectorInfo() {
    }

    public static void main(String[] args) {
        System.out.println(FloatVector.SPECIES_PREFERRED.length());
    }
}
