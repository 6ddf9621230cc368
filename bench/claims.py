def main(args, out_dir):
    raise NotImplementedError
