// The kernel's command line: space-separated words, `key=value` or bare flags.
//   selftest=pagefault   run the page-fault self-test
struct KernelCommandLine {
    var words: [Substring]

    init(_ line: String) {
        words = line.split(separator: " ")
    }

    func value(_ key: String) -> Substring? {
        for word in words {
            if let eq = word.firstIndex(of: "="), word[word.startIndex..<eq] == key {
                return word[word.index(after: eq)...]
            }
        }
        return nil
    }

    func has(_ flag: String) -> Bool { words.contains { $0 == flag } }
}
