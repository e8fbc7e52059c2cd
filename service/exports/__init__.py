"""Tables as files people open: .xlsx with Vietnamese headers, typed cells, frozen header and filter."""
