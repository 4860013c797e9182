package dev.transact4j.train.pipeline;

import dev.transact4j.nn.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Draws a {@link LossCurve} as a PNG: training and validation loss over steps, pruning shots as vertical lines. */
public final class LossPlot {

    private LossPlot() {
    }

    /** Writes the chart to {@code file} through a temporary file and a rename. */
    public static Path write(LossCurve curve, String title, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1000).height(560).title(title)
                .xAxisTitle("optimizer step").yAxisTitle("loss (nats per token)").build();
        chart.getStyler().setMarkerSize(5);

        List<LossCurve.Point> train = curve.train();
        if (!train.isEmpty()) {
            XYSeries series = chart.addSeries("training loss", steps(train), losses(train));
            series.setMarker(SeriesMarkers.NONE);
        }
        List<LossCurve.Point> validation = curve.validation();
        if (!validation.isEmpty()) {
            XYSeries series = chart.addSeries("validation loss", steps(validation), losses(validation));
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            series.setMarker(SeriesMarkers.CIRCLE);
        }

        // one vertical line per pruning point, spanning the losses drawn
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        for (List<LossCurve.Point> points : List.of(train, validation)) {
            for (LossCurve.Point point : points) {
                if (Double.isFinite(point.loss())) {
                    low = Math.min(low, point.loss());
                    high = Math.max(high, point.loss());
                }
            }
        }
        if (low <= high) {
            for (LossCurve.Marker marker : curve.markers()) {
                XYSeries line = chart.addSeries(marker.label(), new double[] {marker.step(), marker.step()},
                        new double[] {low, high});
                line.setMarker(SeriesMarkers.NONE);
                line.setLineColor(marker.label().startsWith("shot") ? Color.RED : Color.GRAY);
                line.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                        new float[] {6f, 4f}, 0f));
            }
        }

        byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.write(file, png);
        return file;
    }

    private static double[] steps(List<LossCurve.Point> points) {
        double[] out = new double[points.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = points.get(i).step();
        }
        return out;
    }

    private static double[] losses(List<LossCurve.Point> points) {
        double[] out = new double[points.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = points.get(i).loss();
        }
        return out;
    }
}
