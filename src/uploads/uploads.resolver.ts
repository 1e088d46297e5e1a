import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { AppError } from '../common/errors';
import { CreateUploadInput, Upload } from './upload.types';

/** Uploads are not built yet; the operation says so instead of handing out a URL that does not work. */
@Resolver()
export class UploadsResolver {
  @Mutation(() => Upload)
  createUpload(@Ctx() ctx: RequestContext, @Arg('input', () => CreateUploadInput) _input: CreateUploadInput): Upload {
    requireViewer(ctx);
    throw new AppError('FORBIDDEN', 'createUpload: uploads are not yet available on this server');
  }
}
