package dev.transact4j.train.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Usage help that does not wrap a line inside a file name such as {@code metrics.jsonl} or
 * {@code *.txt} in unstyled description text. Picocli wraps help text with the JDK's line {@link java.text.BreakIterator}, which
 * allows a break after every period that is followed by a letter (checked on JDK 17 with picocli
 * 4.7.7). This help hides such periods behind a private-use character while picocli wraps the text
 * and puts them back in the rendered table.
 */
final class FileNameSafeHelp extends Help {
    /** A private-use character, which the line break iterator treats as a letter. */
    private static final char PERIOD_PLACEHOLDER = '\uE000';

    FileNameSafeHelp(CommandSpec command, ColorScheme colorScheme) {
        super(command, colorScheme);
    }

    /** Installs this help on {@code cli} and all its subcommands. */
    static void install(CommandLine cli) {
        cli.setHelpFactory(FileNameSafeHelp::new);
    }

    @Override
    public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
                                      ColorScheme scheme) {
        Layout layout = super.createDefaultLayout(options, positionals, scheme);
        TextTable original = layout.textTable();
        Table table = new Table(scheme, original.columns());
        table.setAdjustLineBreaksForWideCJKCharacters(original.isAdjustLineBreaksForWideCJKCharacters());
        table.indentWrappedLines = original.indentWrappedLines;
        return new Layout(scheme, table, layout.optionRenderer(), createDefaultParameterRenderer());
    }

    /** Renders the command description with the same protection as the option list. */
    @Override
    public String description(Object... params) {
        String[] lines = commandSpec().usageMessage().description();
        if (lines.length == 0) {
            return "";
        }
        int width = commandSpec().usageMessage().width();
        Table table = new Table(colorScheme(), new Column[] {new Column(width, 0, Column.Overflow.WRAP)});
        table.setAdjustLineBreaksForWideCJKCharacters(commandSpec().usageMessage().adjustLineBreaksForWideCJKCharacters());
        table.indentWrappedLines = 0;
        for (String line : lines) {
            String formatted = params.length == 0 ? line : String.format(line, params);
            for (Text part : colorScheme().text(formatted).splitLines()) {
                table.addRowValues(part);
            }
        }
        return table.toString();
    }

    /** A text table that protects periods inside words from line breaks. */
    private static final class Table extends TextTable {
        private final ColorScheme scheme;

        Table(ColorScheme scheme, Column[] columns) {
            super(scheme, columns);
            this.scheme = scheme;
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            String plain = value.plainString();
            // Rebuilding the text would drop ANSI styles, so only unstyled text (every description here) is protected.
            if (value.toString().equals(plain)) {
                value = scheme.text(protectPeriods(plain));
            }
            return super.putValue(row, col, value);
        }

        @Override
        public StringBuilder toString(StringBuilder text) {
            int start = text.length();
            super.toString(text);
            for (int i = start; i < text.length(); i++) {
                if (text.charAt(i) == PERIOD_PLACEHOLDER) {
                    text.setCharAt(i, '.');
                }
            }
            return text;
        }
    }

    /** Replaces each period that is followed by a character other than whitespace with the placeholder. */
    static String protectPeriods(String text) {
        StringBuilder protectedText = new StringBuilder(text);
        for (int i = 0; i + 1 < text.length(); i++) {
            if (text.charAt(i) == '.' && !Character.isWhitespace(text.charAt(i + 1))) {
                protectedText.setCharAt(i, PERIOD_PLACEHOLDER);
            }
        }
        return protectedText.toString();
    }
}
